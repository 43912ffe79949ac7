"""The Composio provider: the real adapter and Composio's HTTP client against a local fake endpoint."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.client.subscriptions import listen

from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.gmail.composio_mime import raw_from_composio
from mcp_servers.gmail.composio_provider import ComposioGmailProvider
from mcp_servers.gmail.parsing import MessageParseError, parse_message
from mcp_servers.gmail.provider import MailProviderError, NotFoundError, ProviderUnavailableError
from mcp_servers.gmail.providers import make_provider
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.server import INBOX_URI, build_server, watch_inbox
from mcp_servers.gmail.settings import GmailSettings
from tests.support.composio_gmail import FakeGmail, payload_of, recipients
from tests.support.composio_server import API_KEY, ComposioServer, composio_server
from tests.support.processes import stdio_transport

from .messages import message_with_attachment, plain_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def gmail() -> FakeGmail:
    return FakeGmail()


@pytest.fixture
def composio(gmail: FakeGmail) -> Iterator[ComposioServer]:
    with composio_server(gmail.handlers()) as server:
        yield server


def settings_for(server: ComposioServer, tmp_path: Path, api_key: str = API_KEY) -> GmailSettings:
    return GmailSettings(provider="composio", state_dir=tmp_path / "state", composio_api_key=api_key,
                         composio_base_url=server.base_url, composio_user_id="ada", allow_send=True,
                         poll_seconds=0.05, from_address="me@example.org")  # fmt: skip


@pytest.fixture
async def provider(composio: ComposioServer, tmp_path: Path) -> AsyncIterator[ComposioGmailProvider]:
    mailbox = make_provider(settings_for(composio, tmp_path))
    assert isinstance(mailbox, ComposioGmailProvider)
    await mailbox.open()
    yield mailbox
    await mailbox.aclose()


def arrive(server: ComposioServer, gmail: FakeGmail, raw: bytes, **options) -> str:
    with server.lock:  # the fake is served from another thread
        return gmail.deliver(raw, **options)


async def test_every_call_carries_the_key_and_the_user_id(
    composio: ComposioServer, provider: ComposioGmailProvider
) -> None:
    with composio.lock:
        _, arguments, body = composio.calls[0]
    assert body["user_id"] == "ada" and arguments["user_id"] == "me"
    assert composio.slugs_called()[:3] == ["GMAIL_LIST_LABELS", "GMAIL_GET_PROFILE", "GMAIL_FETCH_EMAILS"]


async def test_search_and_get_read_messages_rebuilt_from_the_payload(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    plain = arrive(composio, gmail, plain_message(subject="Lunch on Friday", sender="Bob <bob@example.org>"))
    report = arrive(composio, gmail, message_with_attachment("q3.pdf", b"%PDF-1.4" * 1000))
    found = await provider.search(parse_query("from:bob subject:lunch"), 10)
    assert [hit.id for hit in found] == [plain]
    message = await provider.get_message(plain)
    assert message.subject == "Lunch on Friday" and message.text.startswith("Hi Ada,")
    assert (
        message.labels == ["INBOX", "UNREAD"] and message.from_ and message.from_.email == "bob@example.org"
    )
    with_file = await provider.get_message(report)
    assert [(a.name, a.size) for a in with_file.attachments] == [("q3.pdf", 8000)]
    assert [hit.id for hit in await provider.search(parse_query("has:attachment"), 10)] == [report]


def parsed_or_none(raw: bytes):
    try:
        return parse_message(raw, id="m")
    except MessageParseError:
        return None


def test_messages_rebuilt_from_gmail_payloads_read_like_the_originals(cpython_messages: list[Path]) -> None:
    """CPython's test messages, as Gmail's payload tree (attachments by id), parse to the same headers,
    attachments and (without attached parts) text as the original bytes."""
    for path in cpython_messages:
        raw = path.read_bytes()
        tree = email.message_from_bytes(raw)
        rebuilt = parsed_or_none(raw_from_composio({"payload": payload_of(tree)}))
        original = parsed_or_none(raw)
        if original is None:
            continue
        assert rebuilt is not None, path.name
        same = ["subject", "from_", "to", "cc", "message_id", "in_reply_to", "references", "list_headers"]
        assert rebuilt.model_dump(include=set(same)) == original.model_dump(include=set(same)), path.name
        assert [a.name for a in rebuilt.attachments] == [a.name for a in original.attachments], path.name
        if tree["Date"]:
            assert rebuilt.date == original.date, path.name
        if not any(part.get_filename() or part.get_content_maintype() == "message" for part in tree.walk()):
            assert rebuilt.text == original.text, path.name


async def test_unknown_message_is_not_found(provider: ComposioGmailProvider) -> None:
    with pytest.raises(NotFoundError, match="no message with id 'nope'"):
        await provider.get_message("nope")


async def test_new_message_appears_once_in_list_changes(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    first = arrive(composio, gmail, plain_message(subject="first"))
    page = await provider.list_changes(None, 50)
    assert [(c.kind, c.message_id) for c in page.changes] == [("added", first)]
    later = arrive(composio, gmail, plain_message(subject="later"))
    page2 = await provider.list_changes(page.cursor, 50)
    assert [(c.kind, c.message_id, c.labels) for c in page2.changes] == [
        ("added", later, ["INBOX", "UNREAD"])
    ]
    assert (await provider.list_changes(page2.cursor, 50)).changes == []
    assert "GMAIL_LIST_HISTORY" in composio.slugs_called()


async def test_a_message_composio_returns_broken_is_journalled_with_its_error_and_sync_goes_on(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    broken = arrive(composio, gmail, plain_message(subject="broken"))
    fine = arrive(composio, gmail, plain_message(subject="fine"))
    fetch = composio.tools["GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID"]

    def garbling(arguments: dict) -> dict:
        found = fetch(arguments)
        if arguments["message_id"] == broken:
            found["payload"]["headers"].append({"value": "a header without a name"})
        return found

    with composio.lock:
        composio.tools["GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID"] = garbling
    changes = (await provider.list_changes(None, 50)).changes
    assert [(c.message_id, c.error is None) for c in changes] == [(broken, False), (fine, True)]
    assert "cannot be rebuilt" in (changes[0].error or "")
    with pytest.raises(MailProviderError, match=f"message {broken} cannot be read"):
        await provider.get_message(broken)
    assert (await provider.get_message(fine)).subject == "fine"


async def test_expired_history_resyncs_without_skipping_or_repeating(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    kept = arrive(composio, gmail, plain_message(subject="kept"))
    page = await provider.list_changes(None, 50)
    missed = arrive(composio, gmail, plain_message(subject="missed"))
    with composio.lock:
        gmail.expire_history()
    page2 = await provider.list_changes(page.cursor, 50)
    assert [(c.kind, c.message_id) for c in page2.changes] == [("added", missed)]
    assert kept not in {c.message_id for c in page2.changes}


async def test_labels_mark_read_and_trash_are_journalled(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    id = arrive(composio, gmail, plain_message())
    page = await provider.list_changes(None, 50)
    assert await provider.modify_labels(id, ["Receipts"], ["UNREAD"]) == ["INBOX", "Receipts"]
    assert "Receipts" in {label.name for label in await provider.list_labels()}
    changes = (await provider.list_changes(page.cursor, 50)).changes
    assert [(c.kind, c.labels) for c in changes] == [("labels_changed", ["INBOX", "Receipts"])]
    with composio.lock:
        assert gmail.messages[id].label_ids == ["INBOX", gmail_label(gmail, "Receipts")]


def gmail_label(gmail: FakeGmail, name: str) -> str:
    return next(id for id, label in gmail.labels.items() if label == name)


async def test_send_draft_and_reply_go_through_composio_tools(
    composio: ComposioServer, gmail: FakeGmail, tmp_path: Path
) -> None:
    original = arrive(composio, gmail, plain_message(subject="Plans", message_id="<plans@example.org>"))
    server = build_server(settings_for(composio, tmp_path), make_provider(settings_for(composio, tmp_path)))
    async with Client(server) as client:
        message = {"to": ["bob@example.org", "carol@example.org"], "cc": ["dan@example.org"], "subject": "Hi", "body": "Hello"}  # fmt: skip
        sent = (await client.call_tool("send_message", {"message": message})).structured_content
        draft = (await client.call_tool("create_draft", {"message": {"to": ["eve@example.org"], "subject": "Later"}})).structured_content  # fmt: skip
        await client.call_tool("send_draft", {"draft_id": draft["draft_id"]})
        replied = (
            await client.call_tool("reply", {"id": original, "body": "Count me in"})
        ).structured_content
        with pytest.raises(ToolError, match="not attachments .* forwarding"):
            await client.call_tool("forward", {"id": original, "to": ["frank@example.org"]})
    assert sent["delivered"] is True and sent["recipients"] == ["bob@example.org", "carol@example.org", "dan@example.org"]  # fmt: skip
    with composio.lock:
        assert [recipients(call) for call in gmail.sent] == [
            ["bob@example.org", "carol@example.org", "dan@example.org"], ["eve@example.org"], ["bob@example.org"]
        ]  # fmt: skip
        assert gmail.drafts == {} and gmail.sent[2]["thread_id"] == gmail.messages[original].thread_id
        assert gmail.messages[replied["id"]].thread_id == gmail.messages[original].thread_id
    assert composio.slugs_called().count("GMAIL_REPLY_TO_THREAD") == 1


async def test_rejected_api_key_is_a_clear_error(composio: ComposioServer, tmp_path: Path) -> None:
    mailbox = make_provider(settings_for(composio, tmp_path, api_key="wrong"))
    with pytest.raises(
        ProviderUnavailableError, match="Composio refused the API key \\(401\\).*COMPOSIO_API_KEY"
    ):
        await mailbox.open()


async def test_server_errors_and_a_dropped_server_recover_without_losing_changes(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    page = await provider.list_changes(None, 50)
    first = arrive(composio, gmail, plain_message(subject="during the outage"))
    composio.fail_next(502)
    with pytest.raises(ProviderUnavailableError, match="Composio failed on its side \\(502\\)"):
        await provider.list_changes(page.cursor, 50)
    composio.stop()
    with pytest.raises(ProviderUnavailableError, match="cannot reach Composio"):
        await provider.list_changes(page.cursor, 50)
    composio.start()
    second = arrive(composio, gmail, plain_message(subject="after"))
    page2 = await provider.list_changes(page.cursor, 50)
    assert [c.message_id for c in page2.changes] == [first, second]


async def test_tool_failure_names_the_composio_tool(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider
) -> None:
    with composio.lock:
        del composio.tools["GMAIL_CREATE_LABEL"]
    id = arrive(composio, gmail, plain_message())
    await provider.list_changes(None, 50)
    with pytest.raises(
        MailProviderError, match="GMAIL_CREATE_LABEL failed: Composio has no such tool .*toolkit version"
    ):
        await provider.modify_labels(id, ["New"], [])


async def test_missing_api_key_stops_start_up_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="COMPOSIO_API_KEY"):
        make_provider(GmailSettings(provider="composio", state_dir=tmp_path, composio_api_key=None))


async def test_new_message_reaches_a_modern_listener_through_the_mcp_server(
    composio: ComposioServer, gmail: FakeGmail, tmp_path: Path
) -> None:
    subscriptions = ResourceSubscriptions()
    provider = make_provider(settings_for(composio, tmp_path))
    server = build_server(settings_for(composio, tmp_path), provider, subscriptions)
    await provider.open()
    try:
        async with anyio.create_task_group() as group, Client(server) as client:
            await group.start(watch_inbox, provider, subscriptions)
            async with listen(client.session, resource_subscriptions=[INBOX_URI]) as subscription:
                id = arrive(composio, gmail, plain_message(subject="pushed through Composio"))
                with anyio.fail_after(10):
                    event = await subscription.__anext__()
            changes = (await client.call_tool("list_changes", {})).structured_content["changes"]
            group.cancel_scope.cancel()
    finally:
        subscriptions.close()
        await provider.aclose()
    assert event.uri == INBOX_URI
    assert [(c["kind"], c["message_id"]) for c in changes] == [("added", id)]


@pytest.mark.slow
async def test_main_over_stdio_picks_composio_from_the_standard_environment_variables(
    composio: ComposioServer, gmail: FakeGmail, tmp_path: Path
) -> None:
    arrive(composio, gmail, plain_message(subject="Smoke through Composio"))
    env = {"PEPPER_GMAIL_PROVIDER": "composio", "COMPOSIO_API_KEY": API_KEY,
           "COMPOSIO_BASE_URL": composio.base_url, "COMPOSIO_USER_ID": "ada"}  # fmt: skip
    transport = stdio_transport("mcp_servers.gmail", ["--state-dir", str(tmp_path / "state")], env)
    async with Client(transport) as client:
        with anyio.fail_after(30):  # the first index runs beside the session: until it is done
            while (await client.call_tool("list_changes", {})).structured_content["indexing"]:
                pass
        found = await client.call_tool("search_messages", {"query": "subject:smoke"})
    assert [m["subject"] for m in found.structured_content["messages"]] == ["Smoke through Composio"]
    with composio.lock:
        assert {body["user_id"] for _, _, body in composio.calls} == {"ada"}


@pytest.mark.parametrize("listing_has_labels", [True, False])
async def test_full_resync_journals_labels_changed_while_history_was_lost(
    composio: ComposioServer, gmail: FakeGmail, provider: ComposioGmailProvider, listing_has_labels: bool
) -> None:
    """Labels come from the listing, or, where a listing item has none, from the message itself."""
    id = arrive(composio, gmail, plain_message())
    cursor = (await provider.list_changes(None, 50)).cursor
    fetch_emails = composio.tools["GMAIL_FETCH_EMAILS"]

    def listing(arguments: dict) -> dict:
        found = fetch_emails(arguments)
        for item in found["messages"] if not listing_has_labels else []:
            del item["labelIds"]
        return found

    new = arrive(composio, gmail, plain_message(subject="new"))
    with composio.lock:
        composio.tools["GMAIL_FETCH_EMAILS"] = listing
        gmail.messages[id].label_ids = ["INBOX"]  # read elsewhere, and then the history is lost
        gmail.expire_history()
    page = await provider.list_changes(cursor, 50)
    assert sorted((c.kind, c.message_id, tuple(c.labels)) for c in page.changes) == [
        ("added", new, ("INBOX", "UNREAD")), ("labels_changed", id, ("INBOX",))
    ]  # fmt: skip
