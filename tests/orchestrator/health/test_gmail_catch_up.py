"""A week with Pepper off, on the Gmail emulator: the history expired meanwhile, so the restarted
gmail server resyncs in full; each message of the gap reaches the context store once, mail from the
gap is triaged even when it is older than the triage window, and the health view says how far
behind mail was and when it caught up. Clocks are pinned; no time passes but the test's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.first_sync import BACKFILL, needs_triage, wait_for_triage
from orchestrator.feeds.ingest import MailIngest
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.runner import run_feed
from orchestrator.health.account import STATUS_TOOL
from orchestrator.health.sources import HealthBook
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from orchestrator.remote import _status_lines
from tests.mcp_servers.gmail.gmail_emulator import GmailEmulator
from tests.mcp_servers.gmail.messages import plain_message

from .test_gmail_outage import Clock, gmail_spec

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ME = "ada@example.org"


async def run_pepper(spec: ServerSpec, context: ServerConnection, clock: Clock) -> tuple[HealthBook, int]:
    """One run of Pepper's mail loop: restore the health record, sync once, stop; the changes applied."""
    items = ContextItems(context)
    gmail = ServerConnection(spec, call_timeout=30)
    book = HealthBook(items, clock)
    log = EventLog(context, idle_poll=1.0)
    async with anyio.create_task_group() as tasks:
        await tasks.start(gmail.run)
        now = lambda: datetime.fromtimestamp(clock.now, UTC)  # noqa: E731
        tasks.start_soon(run_feed, MailFeed(items, [ME], [], now=now), log)  # triage, as Pepper's loop
        ingest = MailIngest(gmail, items, log=log, triage_days=3, now=now)
        book.add("mail", 60, 900, gmail, STATUS_TOOL, lambda: (ingest.cursor, ingest.newest_at))
        await book.restore()
        changes = await book.record("mail", ingest.sync)
        assert await book.record("mail", ingest.sync) == 0  # nothing is delivered twice
        with anyio.fail_after(60):
            await wait_for_triage(log)
        tasks.cancel_scope.cancel()
    return book, changes


@pytest.mark.servers("context")
async def test_a_week_off_with_expired_history_catches_up_once_and_triages_the_gap(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    context, clock = connections["context"], Clock()
    clock.now = T0.timestamp()
    with GmailEmulator() as emulator:
        for hour in (1, 2):
            emulator.deliver(plain_message(subject=f"before {hour}", date=T0 - timedelta(hours=hour)))
        spec = gmail_spec(emulator, tmp_path / "state")
        _, first = await run_pepper(spec, context, clock)

        gap = [
            emulator.deliver(
                plain_message(subject=f"gap day {day}", date=T0 + timedelta(days=day)), ("INBOX",)
            )
            for day in (1, 2, 3)
        ]  # read on the phone meanwhile, and older than the triage window (3 days) by the time Pepper is back
        gap.append(emulator.deliver(plain_message(subject="gap day 6", date=T0 + timedelta(days=6))))
        emulator.expire_history()
        clock.now += WEEK.total_seconds()
        calls = len(emulator.mailbox.calls)
        book, caught_up = await run_pepper(spec, context, clock)
        resynced = emulator.mailbox.calls[calls:]

    items = ContextItems(context)
    stored = {item.id: item for item in await items.query(["raw.email"], limit=100)}
    events = (await EventLog(context).read(None, 0, ["raw.email"], limit=1000))["events"]
    [mail] = book.snapshot()
    status = "\n".join(_status_lines({"mode": "rules", "model": None, "servers": [], "sources": [mail]}))
    assert first == 2 and caught_up == 4
    assert "GET history" in resynced and "GET messages" in resynced  # history expired: a full listing
    assert len(stored) == 6 and all(stored[id].data["subject"].startswith("gap") for id in gap)
    assert sorted(e["id"] for e in events if e["id"] in gap) == sorted(gap)  # each gap message written once
    assert not [id for id in gap if BACKFILL in stored[id].tags]  # all of the gap is triaged
    triaged = {
        e["id"] for e in (await EventLog(context).read(None, 0, ["signals.email"], limit=1000))["events"]
    }
    assert set(gap) <= triaged
    assert mail["behind_seconds"] == WEEK.total_seconds() and mail["caught_up_at"] == clock.now
    assert mail["newest_at"] == (T0 + timedelta(days=6)).timestamp() and mail["lag_seconds"] == 0
    assert mail["cursor"] and f"up to date with the server; cursor {mail['cursor']}" in status
    when = datetime.fromtimestamp(clock.now).astimezone().strftime("%a %H:%M")
    assert f"source mail: ok (synced 0 s ago), 168 h behind after the last stop, caught up {when}" in status


def test_needs_triage_reaches_back_to_the_last_completed_sync_less_a_day() -> None:
    now, synced = T0 + WEEK, T0
    read = {"labels": ["INBOX"]}
    assert needs_triage({**read, "date": (T0 + timedelta(days=1)).isoformat()}, now, 3, synced)
    assert needs_triage(
        {**read, "date": (T0 - timedelta(hours=20)).isoformat()}, now, 3, synced
    )  # slow to arrive
    assert not needs_triage({**read, "date": (T0 - timedelta(days=2)).isoformat()}, now, 3, synced)
    assert not needs_triage({**read, "date": (T0 + timedelta(days=1)).isoformat()}, now, 3)  # a first sync
    assert needs_triage(
        {**read, "date": (now - timedelta(days=1)).isoformat()}, now, 3, now
    )  # the window still holds
