"""The Gmail API provider: the real google-api-python-client against a local emulator."""

from __future__ import annotations

import stat
from pathlib import Path

import anyio
import pytest

from mcp_servers.gmail.gmail_api import GmailApiProvider
from mcp_servers.gmail.provider import ProviderUnavailableError
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.settings import GmailSettings

from . import gmail_emulator
from .gmail_emulator import GmailEmulator
from .messages import plain_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(emulator: GmailEmulator, tmp_path: Path) -> GmailSettings:
    return emulator.settings(tmp_path / "state", allow_send=True, poll_seconds=0.05)


@pytest.fixture
async def provider(settings: GmailSettings):
    mailbox = GmailApiProvider(settings)
    await mailbox.open()
    yield mailbox
    await mailbox.aclose()


async def test_open_refreshes_the_expired_token_and_stores_it_0600(
    emulator: GmailEmulator, settings: GmailSettings
) -> None:
    mailbox = GmailApiProvider(settings)
    await mailbox.open()
    await mailbox.aclose()
    token_file = settings.state_dir / "gmail-token.json"
    assert emulator.mailbox.token in token_file.read_text()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


async def test_missing_token_is_a_clear_error(tmp_path: Path) -> None:
    mailbox = GmailApiProvider(GmailSettings(provider="gmail", state_dir=tmp_path))
    with pytest.raises(ProviderUnavailableError, match="no Gmail token at .* to consent"):
        await mailbox.open()


async def test_full_then_incremental_sync_reports_each_change_once(
    emulator: GmailEmulator, provider: GmailApiProvider
) -> None:
    first = [emulator.deliver(plain_message(subject=f"n{i}")) for i in range(5)]  # more than a page
    page = await provider.list_changes(None, 50)
    assert sorted(c.message_id for c in page.changes) == sorted(first)
    later = emulator.deliver(plain_message(subject="later"))
    page2 = await provider.list_changes(page.cursor, 50)
    assert [(c.kind, c.message_id, c.labels) for c in page2.changes] == [
        ("added", later, ["INBOX", "UNREAD"])
    ]
    assert (await provider.list_changes(page2.cursor, 50)).changes == []


async def test_expired_history_resyncs_without_skipping_or_repeating(
    emulator: GmailEmulator, provider: GmailApiProvider
) -> None:
    kept = emulator.deliver(plain_message(subject="kept"))
    cursor = (await provider.list_changes(None, 50)).cursor
    new = emulator.deliver(plain_message(subject="new"))
    emulator.mailbox.messages[kept]["labelIds"] = ["INBOX"]  # read elsewhere, history then lost
    emulator.expire_history()
    page = await provider.list_changes(cursor, 50)
    assert sorted((c.kind, c.message_id) for c in page.changes) == [("added", new), ("labels_changed", kept)]


async def test_labels_drafts_and_sending_use_the_api(
    emulator: GmailEmulator, provider: GmailApiProvider
) -> None:
    from email.message import EmailMessage

    id = emulator.deliver(plain_message(subject="Invoice"))
    await provider.scan()
    assert await provider.modify_labels(id, ["Receipts"], ["UNREAD", "INBOX"]) == ["Receipts"]
    assert [m.id for m in await provider.search(parse_query("label:Receipts"), 5)] == [id]
    assert "Receipts" in emulator.mailbox.labels.values()
    draft = EmailMessage()
    draft["From"], draft["To"], draft["Subject"], draft["Message-ID"] = (
        "me@example.org",
        "bob@example.org",
        "Hi",
        "<d@x>",
    )
    draft.set_content("hello")
    ref = await provider.save_draft(draft)
    sent = await provider.send(await provider.get_draft(ref.draft_id), ref.draft_id)
    assert sent.delivered is True
    assert emulator.mailbox.messages[sent.id]["labelIds"] == ["SENT"]
    assert ref.draft_id not in emulator.mailbox.messages
    assert (await provider.get_message(sent.id)).subject == "Hi"


async def test_watch_polls_history_and_calls_back(
    emulator: GmailEmulator, provider: GmailApiProvider
) -> None:
    arrived = anyio.Event()

    async def changed() -> None:
        arrived.set()

    async with anyio.create_task_group() as group:
        await group.start(provider.watch, changed)
        emulator.deliver(plain_message(subject="polled"))
        with anyio.fail_after(10):
            await arrived.wait()
        group.cancel_scope.cancel()
    assert [c.kind for c in (await provider.list_changes(None, 10)).changes] == ["added"]


async def test_message_arriving_while_history_is_read_is_reported_at_the_next_sync(
    emulator: GmailEmulator, provider: GmailApiProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new historyId is the one the history answer gives, not a later profile's, which would
    already include (and so skip) a message that arrived just after the history was read."""
    cursor = (await provider.list_changes(None, 50)).cursor
    history = gmail_emulator._ROUTES[("GET", "history")]
    arrived: list[str] = []

    def then_a_message_arrives(box, id, query, body):  # runs under the emulator's lock
        answer = history(box, id, query, body)
        if not arrived:
            arrived.append(box.add(plain_message(subject="just after"), ["INBOX"])["id"])
        return answer

    monkeypatch.setitem(gmail_emulator._ROUTES, ("GET", "history"), then_a_message_arrives)
    assert (await provider.list_changes(cursor, 50)).changes == []
    page = await provider.list_changes(cursor, 50)
    assert [(c.kind, c.message_id) for c in page.changes] == [("added", arrived[0])]


async def test_a_reply_and_a_reply_draft_join_the_thread_of_the_mail_they_answer(
    emulator: GmailEmulator, provider: GmailApiProvider
) -> None:
    from mcp_servers.gmail.compose import reply_to

    id = emulator.deliver(plain_message(subject="Contract"))
    await provider.scan()
    original = await provider.get_message(id)
    answer = reply_to(original, "Signed.", "me@example.org")
    sent = await provider.send(answer)
    assert emulator.mailbox.messages[sent.id]["threadId"] == emulator.mailbox.messages[id]["threadId"]
    draft = await provider.save_draft(reply_to(original, "Later.", "me@example.org"))
    assert emulator.mailbox.messages[draft.draft_id]["threadId"] == emulator.mailbox.messages[id]["threadId"]
    fresh = await provider.send(_new_message())  # not a reply: a thread of its own
    assert emulator.mailbox.messages[fresh.id]["threadId"] != emulator.mailbox.messages[id]["threadId"]


def _new_message():
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "me@example.org", "bob@example.org", "New"
    message["Message-ID"] = "<new@x>"
    message.set_content("hello")
    return message
