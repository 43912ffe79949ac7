"""The MCP surface over a real Maildir: tools, resources and inbox subscriptions.

The write flags and the annotations of every tool are tested in tests/mcp_servers/test_write_flags.py
and tests/mcp_servers/test_annotations.py."""

from __future__ import annotations

import email
import email.policy
import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.messages import MessageHandler
from fastmcp.exceptions import ToolError
from mcp.client.subscriptions import listen

from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.server import INBOX_URI, build_server, watch_inbox
from mcp_servers.gmail.settings import GmailSettings

from .maildirs import deliver
from .messages import message_with_attachment, plain_message

pytestmark = pytest.mark.anyio


def make_server(
    tmp_path: Path, allow_send: bool = False, allow_write: bool = False
) -> tuple[FastMCP, MaildirProvider]:
    settings = GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "state", allow_send=allow_send,
                             allow_write=allow_write, from_address="ada@example.org")  # fmt: skip
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    return build_server(settings, provider), provider


@asynccontextmanager
async def watched_server(tmp_path: Path) -> AsyncIterator[tuple[FastMCP, Path]]:
    """A server with its inbox watcher running, as `__main__` runs it."""
    subscriptions = ResourceSubscriptions()
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    server = build_server(GmailSettings(maildir=tmp_path / "Mail"), provider, subscriptions)
    await provider.open()
    try:
        async with anyio.create_task_group() as group:
            await group.start(watch_inbox, provider, subscriptions)
            yield server, provider.root
            group.cancel_scope.cancel()
    finally:
        await provider.aclose()


async def test_search_get_and_thread_tools_read_the_maildir(tmp_path: Path) -> None:
    server, _ = make_server(tmp_path)
    root = deliver(tmp_path / "Mail", plain_message(subject="Budget", message_id="<b@x>"))
    deliver(
        tmp_path / "Mail", message_with_attachment("budget.xlsx", b"PK\x03\x04", "application/vnd.ms-excel")
    )
    async with Client(server) as client:
        found = (
            await client.call_tool("search_messages", {"query": "subject:budget is:unread"})
        ).structured_content
        assert [m["id"] for m in found["messages"]] == [root]
        message = (await client.call_tool("get_message", {"id": root})).structured_content
        assert message["subject"] == "Budget" and message["from"]["email"] == "bob@example.org"
        thread = (
            await client.call_tool("get_thread", {"thread_id": message["thread_id"]})
        ).structured_content
        assert [m["id"] for m in thread["messages"]] == [root]
        labels = {
            label["name"]: label
            for label in (await client.call_tool("list_labels")).structured_content["result"]
        }
        assert (labels["INBOX"]["total"], labels["INBOX"]["unread"]) == (2, 2)
        changes = (await client.call_tool("list_changes", {})).structured_content
        assert len(changes["changes"]) == 2
        resource = await client.read_resource(f"gmail://message/{root}")
        assert json.loads(resource[0].text)["id"] == root


async def test_bad_query_and_unknown_id_are_clear_tool_errors(tmp_path: Path) -> None:
    server, _ = make_server(tmp_path)
    async with Client(server) as client:
        with pytest.raises(ToolError, match="before:2024 is not a date: use YYYY/MM/DD"):
            await client.call_tool("search_messages", {"query": "before:2024"})
        with pytest.raises(ToolError, match="unsupported search term frm:bob"):
            await client.call_tool("search_messages", {"query": "frm:bob"})
        with pytest.raises(ToolError, match="no message with id 'missing'"):
            await client.call_tool("get_message", {"id": "missing"})
        with pytest.raises(ToolError, match="malformed"):
            await client.call_tool("list_changes", {"since": "garbage"})


async def test_label_tools_mark_read_archive_and_relabel_with_allow_write(tmp_path: Path) -> None:
    server, _ = make_server(tmp_path, allow_write=True)
    key = deliver(tmp_path / "Mail", plain_message())
    async with Client(server) as client:
        assert (await client.call_tool("mark_read", {"id": key})).structured_content["result"] == ["INBOX"]
        archived = await client.call_tool("archive", {"id": key})
        assert archived.structured_content["result"] == []
        relabelled = await client.call_tool("modify_labels", {"id": key, "add": ["Receipts", "STARRED"]})
        assert relabelled.structured_content["result"] == ["STARRED", "Receipts"]
        with pytest.raises(ToolError, match="nothing to do"):
            await client.call_tool("modify_labels", {"id": key})
        with pytest.raises(ToolError, match="labels contains a line break"):
            await client.call_tool("modify_labels", {"id": key, "add": ["Work\r\nA1 LOGOUT"]})


async def test_send_reply_forward_and_drafts_with_allow_send(tmp_path: Path) -> None:
    server, _ = make_server(tmp_path, allow_send=True)
    original = deliver(tmp_path / "Mail", message_with_attachment("q3.pdf", b"%PDF-1.4"))
    async with Client(server) as client:
        sent = (await client.call_tool("send_message", {"message": {"to": ["bob@example.org"], "subject": "Hi", "body": "Hello"}})).structured_content  # fmt: skip
        assert sent["delivered"] is False and sent["recipients"] == ["bob@example.org"]
        replied = (await client.call_tool("reply", {"id": original, "body": "Thanks!"})).structured_content
        forwarded = (
            await client.call_tool("forward", {"id": original, "to": ["carol@example.org"]})
        ).structured_content
        draft = (await client.call_tool("create_draft", {"message": {"to": ["dan@example.org"], "subject": "Later"}})).structured_content  # fmt: skip
        assert len(list((tmp_path / "Mail" / ".Drafts" / "cur").iterdir())) == 1
        await client.call_tool("send_draft", {"draft_id": draft["draft_id"]})
        assert list((tmp_path / "Mail" / ".Drafts" / "cur").iterdir()) == []
        reply = (await client.call_tool("get_message", {"id": replied["id"]})).structured_content
        assert reply["subject"] == "Re: Report attached" and reply["labels"] == ["SENT"]
        assert "The report is attached." in reply["quoted"]
        forward = (await client.call_tool("get_message", {"id": forwarded["id"]})).structured_content
        assert forward["subject"] == "Fwd: Report attached"
        assert {a["name"] for a in forward["attachments"]} >= {"Report attached.eml", "q3.pdf"}
        assert (await client.call_tool("trash", {"id": original})).structured_content["result"] == [
            "TRASH",
            "UNREAD",
        ]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"to": ["not an address"]}, "to: 'not an address' is not an e-mail address"),
        ({"to": [""]}, "to: '' is not an e-mail address"),
        ({"to": []}, "at least 1 item"),
        ({"to": ["bob@example.org, eve@evil.example"]}, "is not one address"),
        ({"to": ["bob@example.org"], "cc": ["carol@"]}, "cc: 'carol@' is not an e-mail address"),
        ({"to": ["bob@example.org"], "bcc": ["x\r\nSubject: hi"]}, "bcc contains a line break"),
        ({"to": ["bob@example.org\r\nBcc: eve@evil.example"]}, "to contains a line break"),
        (
            {"to": ["bob@example.org"], "subject": "Hi\r\nBcc: eve@evil.example"},
            "subject contains a line break",
        ),
    ],
)
async def test_create_draft_and_send_message_refuse_bad_recipients_and_broken_headers(
    tmp_path: Path, message: dict, problem: str
) -> None:
    server, _ = make_server(tmp_path, allow_send=True)
    async with Client(server) as client:
        for tool in ("create_draft", "send_message"):
            with pytest.raises(ToolError, match=problem):
                await client.call_tool(tool, {"message": message})
    assert not any((tmp_path / "Mail").glob(".*/*/*")), "nothing is drafted or sent"


async def test_forward_refuses_a_bad_address_and_reply_needs_someone_to_reply_to(tmp_path: Path) -> None:
    server, _ = make_server(tmp_path, allow_send=True)
    original = deliver(tmp_path / "Mail", plain_message())
    anonymous = deliver(tmp_path / "Mail", plain_message(sender="", to=""))
    async with Client(server) as client:
        with pytest.raises(ToolError, match="to: 'carol' is not an e-mail address"):
            await client.call_tool("forward", {"id": original, "to": ["carol"]})
        with pytest.raises(ToolError, match="no sender to reply to"):
            await client.call_tool("reply", {"id": anonymous, "body": "Who are you?"})
        named = await client.call_tool("forward", {"id": original, "to": ["Carol <carol@example.org>"]})
        assert named.structured_content["recipients"] == ["carol@example.org"]


async def test_inbox_update_reaches_legacy_subscriber_when_a_file_lands(tmp_path: Path) -> None:
    class Recorder(MessageHandler):
        def __init__(self) -> None:
            self.arrived = anyio.Event()
            self.uris: list[str] = []

        async def on_resource_updated(self, message) -> None:  # type: ignore[override]
            self.uris.append(str(message.params.uri))
            self.arrived.set()

    recorder = Recorder()
    async with watched_server(tmp_path) as (server, root):
        async with Client(server, mode="legacy", message_handler=recorder) as client:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                await client.session.subscribe_resource(INBOX_URI)
            deliver(root, plain_message(subject="push me"))
            with anyio.fail_after(10):
                await recorder.arrived.wait()
            inbox = json.loads((await client.read_resource(INBOX_URI))[0].text)
    assert recorder.uris[0] == INBOX_URI
    assert [m["subject"] for m in inbox] == ["push me"]


async def test_inbox_update_reaches_modern_listener_when_a_file_lands(tmp_path: Path) -> None:
    async with watched_server(tmp_path) as (server, root):
        async with Client(server) as client:
            async with listen(client.session, resource_subscriptions=[INBOX_URI]) as subscription:
                deliver(root, plain_message(subject="push me too"))
                with anyio.fail_after(10):
                    event = await subscription.__anext__()
            changes = (await client.call_tool("list_changes", {})).structured_content["changes"]
    assert event.uri == INBOX_URI
    assert [c["kind"] for c in changes] == ["added"]


async def test_send_message_goes_through_a_real_smtp_sink_without_bcc_header(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandlerBase

    from tests.support.processes import free_port

    received: list[tuple[list[str], bytes]] = []

    class Sink(MessageHandlerBase):
        def handle_message(self, message) -> None:  # type: ignore[override]
            received.append((message["X-RcptTo"].split(", "), message.as_bytes()))

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "state", allow_send=True,
                                 smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                                 from_address="ada@example.org")  # fmt: skip
        from mcp_servers.gmail.providers import make_provider

        server = build_server(settings, make_provider(settings))
        async with Client(server) as client:
            message = {
                "to": ["bob@example.org"],
                "bcc": ["eve@example.org"],
                "subject": "Secret",
                "body": "x",
            }
            sent = (await client.call_tool("send_message", {"message": message})).structured_content
    finally:
        controller.stop()
    assert sent["delivered"] is True
    ((recipients, raw),) = received
    assert sorted(recipients) == ["bob@example.org", "eve@example.org"]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["Subject"] == "Secret"
