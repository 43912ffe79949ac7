"""A first sync of a 20,000-message IMAP account against the real Dovecot (`-m scale`, minutes):
every message journalled exactly once, the newest Sent mail first, then the inbox, then the rest,
each folder newest first (highest UID first), read by UID range in pages, a step at a time while tools answer."""

from __future__ import annotations

import random
import time
from itertools import accumulate, groupby, pairwise

import anyio
import pytest

from mcp_servers.gmail.first_order import SENT_LEAD
from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import Dovecot, drop_into_maildir
from .messages import plain_message

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.scale]
FOLDERS = {"Sent": 1_500, "": 18_000, "Archive": 500}  # Maildir folder → messages ("" is INBOX)
LINE = "About the quarterly numbers: the draft is in the shared folder, comments welcome.\n"


def mailbox(folder: str, count: int, rng: random.Random) -> list[bytes]:
    """`count` messages of realistic, varied sizes (a few hundred bytes to ~16 KB), oldest first."""
    template = plain_message(subject="SUBJECT", body="BODY")
    return [
        template.replace(b"SUBJECT", f"{folder or 'INBOX'} {n}".encode()).replace(
            b"BODY", (LINE * rng.choice([1, 3, 10, 40, 200])).encode()
        )
        for n in range(count)
    ]


@pytest.mark.timeout(1800)
async def test_first_sync_of_20000_messages_is_complete_newest_first_without_duplicates(
    dovecot: Dovecot, account: GmailSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert account.imap_username
    rng = random.Random(16)
    for folder, count in FOLDERS.items():
        drop_into_maildir(dovecot, account.imap_username, mailbox(folder, count, rng), folder)
    provider = ImapProvider(account)
    started = time.monotonic()
    await provider.connect()
    first_step = anyio.Event()

    async def changed() -> None:
        first_step.set()

    async with anyio.create_task_group() as group:
        group.start_soon(provider.index, changed)
        await first_step.wait()
        asked = time.monotonic()
        early = await provider.list_changes(None, 1000)  # a tool answers while the index grows
        answered, during = time.monotonic() - asked, provider.indexing
    synced = time.monotonic() - started
    changes, cursor, more = [], None, True
    while more:
        page = await provider.list_changes(cursor, 1000)
        changes, cursor, more = changes + page.changes, page.cursor, page.has_more
    ids = [change.message_id for change in changes]
    newest = await provider.get_messages([id for id in ids if id.startswith("INBOX:")][:100])
    await provider.aclose()
    assert during is not None and during.indexed < during.total  # answered mid-index
    assert [change.message_id for change in early.changes] == ids[: len(early.changes)]
    assert len(ids) == len(set(ids)) == sum(FOLDERS.values())  # complete, no duplicates
    assert {change.kind for change in changes} == {"added"} and all(c.error is None for c in changes)
    folders = [id.split(":")[0] for id in ids]
    blocks = [(folder, len(list(run))) for folder, run in groupby(folders)]
    # the newest SENT_LEAD sent messages lead; the older ones wait until the inbox is in
    assert blocks == [("Sent", SENT_LEAD), ("INBOX", 18_000), ("Sent", 1_500 - SENT_LEAD), ("Archive", 500)]
    uids = [int(id.split(":")[2]) for id in ids]
    edges = [0, *accumulate(count for _, count in blocks)]
    for start, end in pairwise(edges):
        assert uids[start:end] == sorted(uids[start:end], reverse=True)  # each newest first
    assert max(uids[edges[2] : edges[3]]) < min(uids[: edges[1]])  # the lead is Sent's newest
    assert [m.subject for m in newest.messages] == [f"INBOX {n}" for n in range(17_999, 17_899, -1)]
    with capsys.disabled():
        print(f"\n20,000 messages synced from Dovecot in {synced:.1f} s ({20_000 / synced:.0f}/s); "
              f"list_changes answered in {answered:.2f} s at {during.indexed:,} of {during.total:,}")  # fmt: skip
