"""A first sync of a mailbox: recent and unread mail is triaged (and reaches Now) before any older
mail is backfilled for search only; progress is counted for `status` and the UI."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.first_sync import BACKFILL, SyncProgress, needs_triage, wait_for_triage
from orchestrator.feeds.ingest import MailIngest
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.runner import run_feed
from orchestrator.mcp_clients import ServerConnection
from orchestrator.profile import ProfileBook
from tests.orchestrator.conftest import server_specs

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ME = "me@example.org"


def deliver(root: Path, name: str, received: datetime, read: bool, folder: str = "", to: str = ME) -> None:
    message = EmailMessage()
    message["From"], message["To"] = f"Sender {name} <{name}@example.org>", to
    message["Subject"], message["Message-ID"] = f"Note {name}", f"<{name}@example.org>"
    message["Date"] = format_datetime(received)
    message.set_content(f"Hello, this is note {name}. Could you look at it by Friday?")
    base = root / f".{folder}" if folder else root
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    path = base / "cur" / f"{name}:2,{'S' if read else ''}"
    path.write_bytes(bytes(message))
    os.utime(path, (received.timestamp(), received.timestamp()))


@asynccontextmanager
async def servers_over(tmp_path: Path) -> AsyncIterator[dict[str, ServerConnection]]:
    """The context store and a gmail server started over the Maildir already written: its first
    indexing meets the whole mailbox."""
    specs = [spec for spec in server_specs(tmp_path) if spec.name in ("context", "gmail")]
    live = {spec.name: ServerConnection(spec) for spec in specs}
    async with anyio.create_task_group() as task_group:
        for connection in live.values():
            await task_group.start(connection.run)
        yield live
        task_group.cancel_scope.cancel()


@pytest.fixture
async def mailbox_servers(tmp_path: Path) -> AsyncIterator[dict[str, ServerConnection]]:
    mail = tmp_path / "mail"
    for day in range(10):  # recent: the last 10 days, read or not
        deliver(mail, f"recent{day}", NOW - timedelta(days=day, hours=1), read=day % 2 == 0)
    for day in range(60):  # older and read: search only
        deliver(mail, f"old{day}", NOW - timedelta(days=30 + day), read=True)
    for day in range(3):  # older but unread: can still need the user
        deliver(mail, f"unread{day}", NOW - timedelta(days=100 + day), read=False)
    deliver(mail, "sent0", NOW - timedelta(days=200), read=True, folder="Sent", to="dana@example.org")
    async with servers_over(tmp_path) as live:
        yield live


async def first_sync(servers: dict[str, ServerConnection], page_size: int = 100) -> MailIngest:
    """Ingest and triage the whole mailbox, as Pepper's loops do; returns the ingest."""
    items = ContextItems(servers["context"])
    log = EventLog(servers["context"], idle_poll=1.0)
    feed = MailFeed(items, [ME], [], now=lambda: NOW)
    ingest = MailIngest(servers["gmail"], items, page_size=page_size, log=log, now=lambda: NOW)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        with anyio.fail_after(120):
            while ingest.progress.phase != "done":
                await ingest.sync()
            await wait_for_triage(log)
        task_group.cancel_scope.cancel()
    return ingest


@pytest.mark.anyio
async def test_recent_mail_reaches_now_before_the_backfill_starts(mailbox_servers) -> None:
    ingest = await first_sync(mailbox_servers, page_size=20)
    items = ContextItems(mailbox_servers["context"])
    log = EventLog(mailbox_servers["context"])
    backfill = {item.id for item in await items.query(["raw.email"], tags=[BACKFILL], limit=1000)}
    assert backfill == {f"old{day}" for day in range(60)} | {"sent0"}
    events = (await log.read(None, 0, ["raw.email", "signals.email"], limit=1000))["events"]
    old_received = backfill - {"sent0"}  # old Sent mail comes first: learned from before triage starts
    first_backfill = min(
        e["seq"] for e in events if e["namespace"] == "raw.email" and e["id"] in old_received
    )
    triaged = {e["id"]: e["seq"] for e in events if e["namespace"] == "signals.email"}
    recent = {f"recent{day}" for day in range(10)}
    assert recent <= triaged.keys() and max(triaged[id] for id in recent) < first_backfill
    assert {f"unread{day}" for day in range(3)} <= triaged.keys()  # old, but unread: triaged too
    assert not backfill & triaged.keys()  # search only
    assert ingest.progress.stored == 74 and ingest.progress.backfill == 61
    assert ingest.backfill_paused > 0  # its pages left room between them
    profile = await ProfileBook(items, [ME], []).load()
    assert profile.has_written_to("dana@example.org")  # old Sent mail still teaches
    assert await items.get("signals.follow_up", "sent0") is None  # but its question is not followed up


def test_needs_triage_keeps_unread_and_recent_mail_and_drops_old_read_mail() -> None:
    old = (NOW - timedelta(days=15)).isoformat()
    assert needs_triage({"labels": ["INBOX", "UNREAD"], "date": old}, NOW, 14)
    assert not needs_triage({"labels": ["INBOX"], "date": old}, NOW, 14)
    assert needs_triage({"labels": ["INBOX"], "date": old}, NOW, 30)
    assert needs_triage({"labels": ["INBOX"], "date": "not a date"}, NOW, 14)


def test_sync_progress_counts_pages_and_says_how_far_it_got() -> None:
    progress = SyncProgress()
    progress.after_page(
        {"pending": 900, "has_more": True, "indexing": {"indexed": 1000, "total": 99_000}}, 100
    )
    assert progress.phase == "recent" and progress.text == "indexed 100 of 99,000 (recent mail first)"
    progress.phase = "backfill"
    progress.after_page({"pending": 0, "has_more": False, "indexing": None}, 98_900)
    assert progress.phase == "done" and progress.text == "mail synced: 99,000 messages"


@pytest.mark.anyio
async def test_a_first_sync_makes_at_most_one_mcp_call_per_ten_messages(tmp_path: Path) -> None:
    for i in range(1000):  # a month of mail, a tenth of it unread, one in ten sent
        received = NOW - timedelta(hours=i * 0.72)
        folder = "Sent" if i % 10 == 5 else ""
        deliver(tmp_path / "mail", f"m{i}", received, read=i % 10 != 0, folder=folder, to="dana@example.org")
    async with servers_over(tmp_path) as servers:
        ingest = await first_sync(servers)
        calls = {name: sum(connection.calls.values()) for name, connection in servers.items()}
    assert ingest.progress.stored == 1000
    assert sum(calls.values()) / 1000 <= 0.1, calls
