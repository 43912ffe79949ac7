"""ContextClient against the real context store server, in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from fastmcp import Client

from mcp_servers.context_store.server import build_server
from mcp_servers.context_store.settings import ContextStoreSettings
from orchestrator.context_client import ContextClient, ContextEvent

pytestmark = pytest.mark.anyio


@pytest.fixture
async def connected(tmp_path: Path) -> AsyncIterator[Client]:
    settings = ContextStoreSettings(db_path=tmp_path / "context.sqlite3", embedder="none")
    async with Client(build_server(settings)) as client:
        yield client


async def store(client: Client, namespace: str, item_id: str) -> None:
    await client.call_tool("store", {"namespace": namespace, "id": item_id, "data": 1})


async def take(events: AsyncIterator[ContextEvent], count: int) -> list[ContextEvent]:
    taken = []
    with anyio.fail_after(10):
        async for event in events:
            taken.append(event)
            if len(taken) == count:
                break
    return taken


async def test_events_resume_after_the_acked_cursor(connected: Client) -> None:
    for item_id in "abc":
        await store(connected, "signals.email", item_id)
    context = ContextClient(connected)
    first = await take(context.events("scheduler", ["signals.*"]), 2)
    assert [event.id for event in first] == ["a", "b"]
    assert await context.ack("scheduler", first[-1].seq) == 2
    again = await take(ContextClient(connected).events("scheduler", ["signals.*"]), 1)
    assert [(event.id, event.op) for event in again] == [("c", "store")]


async def test_events_wait_for_a_notification_when_caught_up(connected: Client) -> None:
    await store(connected, "signals.email", "old")
    context = ContextClient(connected, idle_poll=60)  # far beyond the test timeout: only a wake-up helps
    received: list[ContextEvent] = []
    caught_up = anyio.Event()

    async def consume() -> None:
        async for event in context.events("feeds", ["signals.*"]):
            received.append(event)
            caught_up.set()
            if len(received) == 2:
                return

    with anyio.fail_after(10):
        async with context.subscribe("signals.*"), anyio.create_task_group() as tasks:
            tasks.start_soon(consume)
            await caught_up.wait()
            await store(connected, "raw.email", "ignored")
            await store(connected, "signals.calendar", "new")
    assert [(event.namespace, event.id) for event in received] == [
        ("signals.email", "old"),
        ("signals.calendar", "new"),
    ]
