"""The Maildir provider: a durable change feed, labels from folders and flags, search, watching."""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.provider import CursorError, MailProviderError, NotFoundError
from mcp_servers.gmail.query import parse_query

from .maildirs import deliver
from .messages import message_with_attachment, plain_message

pytestmark = pytest.mark.anyio


@pytest.fixture
async def provider(tmp_path: Path):
    mailbox = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await mailbox.open()
    yield mailbox
    await mailbox.aclose()


async def test_list_changes_reports_each_new_file_once_across_restarts(tmp_path: Path) -> None:
    root, state = tmp_path / "Mail", tmp_path / "state"
    first = MaildirProvider(root, state)
    await first.open()
    a = deliver(root, plain_message(subject="one"))
    page = await first.list_changes(None, 50)
    assert [(c.kind, c.message_id, c.labels) for c in page.changes] == [("added", a, ["INBOX", "UNREAD"])]
    assert (await first.list_changes(page.cursor, 50)).changes == []
    await first.aclose()

    b = deliver(root, plain_message(subject="two"))
    second = MaildirProvider(root, state)
    await second.open()
    later = await second.list_changes(page.cursor, 50)
    assert [c.message_id for c in later.changes] == [b]
    await second.aclose()


async def test_list_changes_pages_without_skipping_or_repeating(provider: MaildirProvider) -> None:
    keys = [deliver(provider.root, plain_message(subject=f"n{i}")) for i in range(7)]
    seen, cursor = [], None
    while True:
        page = await provider.list_changes(cursor, 3)
        seen += [c.message_id for c in page.changes]
        cursor = page.cursor
        if not page.has_more:
            break
    assert sorted(seen) == sorted(keys)


async def test_first_sync_journals_the_sent_folder_before_the_inbox(provider: MaildirProvider) -> None:
    inbox = deliver(provider.root, plain_message(subject="asked"))
    archived = deliver(provider.root, plain_message(subject="old"), folder="Archive", flags="S")
    sent = deliver(provider.root, plain_message(subject="Re: asked", sender="ada@example.org"), folder="Sent")
    page = await provider.list_changes(None, 50)
    assert [c.message_id for c in page.changes] == [sent, inbox, archived]
    assert page.changes[0].labels == ["SENT"]


async def test_list_changes_journals_a_bad_message_with_its_error_and_goes_on(
    provider: MaildirProvider,
) -> None:
    bad = deliver(provider.root, b"")
    long_ago = time.time() - 60  # empty for a minute: broken, not still being written
    os.utime(next((provider.root / "new").glob(f"{bad}*")), (long_ago, long_ago))
    good = deliver(provider.root, plain_message())
    changes = {c.message_id: c for c in (await provider.list_changes(None, 50)).changes}
    assert changes[bad].error == "the message is empty"
    assert changes[good].error is None
    with pytest.raises(MailProviderError, match="cannot be read: the message is empty"):
        await provider.get_message(bad)


async def test_list_changes_refuses_cursor_of_another_journal(provider: MaildirProvider) -> None:
    with pytest.raises(CursorError, match="another change journal"):
        await provider.list_changes("ffffffffffff:3", 10)
    with pytest.raises(CursorError, match="malformed"):
        await provider.list_changes("nonsense", 10)


async def test_modify_labels_moves_between_folders_and_flags(provider: MaildirProvider) -> None:
    key = deliver(provider.root, plain_message())
    await provider.scan()
    assert await provider.modify_labels(key, [], ["UNREAD"]) == ["INBOX"]
    assert await provider.modify_labels(key, ["STARRED", "Projects"], ["INBOX"]) == ["STARRED", "Projects"]
    assert list((provider.root / ".Archive" / "cur").iterdir())[0].name == f"{key}:2,FS"
    assert await provider.modify_labels(key, ["TRASH"], []) == ["TRASH", "STARRED", "Projects"]
    kinds = [c.kind for c in (await provider.list_changes(None, 50)).changes]
    assert kinds == ["added"] + ["labels_changed"] * 3
    message = await provider.get_message(key)
    assert message.labels == ["TRASH", "STARRED", "Projects"]


async def test_modify_labels_refuses_unknown_ids_and_system_only_labels(provider: MaildirProvider) -> None:
    with pytest.raises(NotFoundError, match="no message with id 'nope'"):
        await provider.modify_labels("nope", ["STARRED"], [])
    key = deliver(provider.root, plain_message())
    await provider.scan()
    with pytest.raises(MailProviderError, match="SENT is set by sending"):
        await provider.modify_labels(key, ["SENT"], [])


async def test_flag_change_by_another_client_is_a_labels_change(provider: MaildirProvider) -> None:
    key = deliver(provider.root, plain_message())
    start = (await provider.list_changes(None, 50)).cursor
    os.rename(provider.root / "new" / key, provider.root / "cur" / f"{key}:2,S")
    page = await provider.list_changes(start, 50)
    assert [(c.kind, c.labels) for c in page.changes] == [("labels_changed", ["INBOX"])]


async def test_search_applies_each_gmail_operator(provider: MaildirProvider) -> None:
    root = provider.root
    report = deliver(root, message_with_attachment("q3.pdf", b"%PDF-1.4 report"), flags="S")
    lunch = deliver(
        root, plain_message(subject="Lunch on Friday", sender="Zoe <zoe@example.org>", body="Pizza?")
    )
    deliver(root, plain_message(subject="Old news"), folder="Archive", flags="S")

    async def ids(text: str) -> list[str]:
        return [m.id for m in await provider.search(parse_query(text), 20)]

    assert await ids("has:attachment") == [report]
    assert await ids("from:zoe is:unread") == [lunch]
    assert await ids('subject:"lunch on" pizza') == [lunch]
    assert await ids("label:inbox is:read") == [report]
    assert len(await ids("to:ada@example.org")) == 3
    assert await ids("newer_than:1d") == []


async def test_duplicate_message_ids_stay_two_messages(provider: MaildirProvider) -> None:
    raw = plain_message(message_id="<same@example.org>")
    first, second = deliver(provider.root, raw), deliver(provider.root, raw)
    page = await provider.list_changes(None, 10)
    assert {c.message_id for c in page.changes} == {first, second}


async def test_get_thread_returns_the_conversation_oldest_first(provider: MaildirProvider) -> None:
    from datetime import UTC, datetime

    deliver(provider.root, plain_message(message_id="<root@x>", date=datetime(2025, 1, 1, tzinfo=UTC)))
    deliver(provider.root, plain_message(message_id="<r@x>", In_Reply_To="<root@x>", References="<root@x>",
                                         date=datetime(2025, 1, 2, tzinfo=UTC)))  # fmt: skip
    (hit,) = await provider.search(parse_query("label:inbox"), 1)
    thread = await provider.get_thread(hit.thread_id)
    assert [m.message_id for m in thread.messages] == ["<root@x>", "<r@x>"]


async def test_watch_calls_back_when_a_file_lands(provider: MaildirProvider) -> None:
    arrived = anyio.Event()

    async def changed() -> None:
        arrived.set()

    async with anyio.create_task_group() as group:
        await group.start(provider.watch, changed)
        key = deliver(provider.root, plain_message(subject="pushed"))
        with anyio.fail_after(10):
            await arrived.wait()
        group.cancel_scope.cancel()
    assert (await provider.list_changes(None, 10)).changes[-1].message_id == key


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(max_size=300), min_size=1, max_size=6))
def test_scan_of_hostile_files_journals_every_file_and_never_stops(
    tmp_path_factory, junk: list[bytes]
) -> None:
    async def run() -> None:
        base = tmp_path_factory.mktemp("fuzz")
        mailbox = MaildirProvider(base / "Mail", base / "state")
        keys = [deliver(base / "Mail", raw) for raw in junk]
        good = deliver(base / "Mail", plain_message(subject="still here"))
        long_ago = time.time() - 60  # there for a minute: broken, not still being written
        for path in (base / "Mail" / "new").iterdir():
            os.utime(path, (long_ago, long_ago))
        await mailbox.open()
        try:
            page = await mailbox.list_changes(None, 100)
            assert sorted(c.message_id for c in page.changes) == sorted([*keys, good])
            assert all(c.error is None or c.error for c in page.changes)
            assert [m.id for m in await mailbox.search(parse_query("subject:still"), 5)] == [good]
        finally:
            await mailbox.aclose()

    anyio.run(run)
