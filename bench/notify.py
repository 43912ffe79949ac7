"""Benchmark of the notify server (issue 5 targets).

    .venv/bin/python bench/notify.py [--notifications 5000] [--reminders 200]

1. Notifications per second through the inbox channel, in batch: many concurrent `send` calls on
   the engine (store, dedupe and rate checks, inbox announcement), then the same through the MCP
   `send_notification` tool over an in-memory client. Target >= 1,000/s.
2. Reminder firing accuracy under load: reminders due at random times over a few seconds while
   a steady stream of notifications is sent; lateness = when the reminder reached the inbox minus
   its due time. Target: within 1 s (p50, p99 and worst are printed).
Runs against a temporary SQLite file with the real clock; prints a table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

# bench/ holds calendar.py, which would shadow the stdlib's `calendar`: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from fastmcp import Client  # noqa: E402

from mcp_servers.notify.clock import SystemClock  # noqa: E402
from mcp_servers.notify.engine import Notifier  # noqa: E402
from mcp_servers.notify.models import OutgoingNotification  # noqa: E402
from mcp_servers.notify.server import build_server  # noqa: E402
from mcp_servers.notify.settings import NotifySettings  # noqa: E402
from mcp_servers.notify.store import NewReminder  # noqa: E402

BATCH = 100


def settings_in(directory: Path, name: str) -> NotifySettings:
    """Default limits; the benchmark spreads its sends over 500 sources to stay within them."""
    return NotifySettings(db_path=directory / name, desktop="off")


async def engine_throughput(directory: Path, count: int, batched: bool) -> float:
    """Concurrent `send` calls in groups of BATCH, or `send_many` with BATCH per call."""
    arrived: list[str] = []

    async def on_inbox(ids: Sequence[str]) -> None:
        arrived.extend(ids)

    name = f"engine-{'many' if batched else 'one'}.sqlite3"
    notifier = Notifier(settings_in(directory, name), SystemClock(), on_inbox=on_inbox)
    async with notifier.running():
        started = time.perf_counter()
        for first in range(0, count, BATCH):
            indexes = range(first, min(first + BATCH, count))
            if batched:
                await notifier.send_many([outgoing(i) for i in indexes])
                continue
            async with anyio.create_task_group() as tg:
                for i in indexes:
                    tg.start_soon(notifier.send, f"notification {i}", "body", "normal", f"source{i % 500}")
        elapsed = time.perf_counter() - started
    assert len(arrived) == count, f"{len(arrived)} of {count} reached the inbox"
    return count / elapsed


def outgoing(i: int) -> OutgoingNotification:
    return OutgoingNotification(title=f"notification {i}", body="body", source=f"source{i % 500}")


async def mcp_throughput(directory: Path, count: int, batched: bool) -> float:
    """`send_notification` calls, BATCH concurrent at a time, or `send_notifications` with BATCH each."""
    server = build_server(settings_in(directory, f"mcp-{'many' if batched else 'one'}.sqlite3"))
    async with Client(server) as client:
        started = time.perf_counter()
        for first in range(0, count, BATCH):
            indexes = range(first, min(first + BATCH, count))
            if batched:
                items = [outgoing(i).model_dump() for i in indexes]
                await client.call_tool("send_notifications", {"notifications": items})
                continue
            async with anyio.create_task_group() as tg:
                for i in indexes:
                    tg.start_soon(
                        client.call_tool, "send_notification", {"title": f"n {i}", "source": f"s{i % 500}"}
                    )
        elapsed = time.perf_counter() - started
        listed = await client.call_tool("list_notifications", {"limit": 1})
    assert listed.structured_content is not None and listed.structured_content["unread"] == count
    return count / elapsed


async def reminder_lateness(directory: Path, reminders: int, load_per_second: int) -> tuple[list[float], int]:
    """Seconds between each reminder's due time and its arrival in the inbox; and the load sent."""
    arrivals: dict[str, float] = {}

    async def on_inbox(ids: Sequence[str]) -> None:
        now = time.time()
        for notification_id in ids:
            arrivals.setdefault(notification_id, now)

    notifier = Notifier(settings_in(directory, "reminders.sqlite3"), SystemClock(), on_inbox=on_inbox)
    sent = 0
    async with notifier.running():
        start = datetime.now(UTC) + timedelta(seconds=1)
        for i in range(reminders):
            due = start + timedelta(seconds=random.uniform(0, 4))
            await notifier.add_reminder(NewReminder(f"reminder {i}", "high", "UTC", due))
        finish = time.monotonic() + 6
        while time.monotonic() < finish:  # steady background load of plain notifications
            tick = time.monotonic()
            async with anyio.create_task_group() as tg:
                for _ in range(load_per_second // 10):
                    tg.start_soon(notifier.send, f"load {sent}", "", "normal", f"load{sent % 500}")
                    sent += 1
            await anyio.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        fired = [
            n for n in notifier.store.list_notifications(datetime.now(UTC), False, None, 10**6) if n.due_at
        ]
    lateness = [arrivals[n.id] - n.due_at.timestamp() for n in fired if n.due_at is not None]
    assert len(lateness) == reminders, f"{len(lateness)} of {reminders} reminders fired"
    return lateness, sent


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=5000)
    parser.add_argument("--reminders", type=int, default=200)
    parser.add_argument("--load", type=int, default=300, help="background notifications per second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        engine_one = await engine_throughput(directory, args.notifications, batched=False)
        engine_many = await engine_throughput(directory, args.notifications, batched=True)
        mcp_one = await mcp_throughput(directory, args.notifications // 5, batched=False)
        mcp_many = await mcp_throughput(directory, args.notifications, batched=True)
        lateness, load = await reminder_lateness(directory, args.reminders, args.load)
    n = args.notifications
    rows = [
        ("inbox: engine send, 100 concurrent", f"{n} sends", f"{engine_one:,.0f}/s", ">= 1,000/s"),
        ("inbox: engine send_many, 100 a batch", f"{n} sends", f"{engine_many:,.0f}/s", ">= 1,000/s"),
        ("inbox: MCP send_notification, 100 concurrent", f"{n // 5} calls", f"{mcp_one:,.0f}/s", "(per-call MCP cost)"),
        ("inbox: MCP send_notifications, 100 a call", f"{n} sends", f"{mcp_many:,.0f}/s", ">= 1,000/s"),
        ("reminder lateness p50", f"{args.reminders} due over 4 s, {load} load", f"{statistics.median(lateness) * 1000:.0f} ms", "<= 1 s"),
        ("reminder lateness p99", "", f"{percentile(lateness, 0.99) * 1000:.0f} ms", "<= 1 s"),
        ("reminder lateness max", "", f"{max(lateness) * 1000:.0f} ms", "<= 1 s"),
    ]  # fmt: skip
    widths = [
        max(len(row[i]) for row in [("measure", "workload", "result", "target"), *rows]) for i in range(4)
    ]
    for row in [("measure", "workload", "result", "target"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    anyio.run(main)
