"""EventLog follows the real context store's log over a stdio session: cursors, acks, wake-ups."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent, EventLog, EventStream

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


async def take(stream: EventStream, count: int) -> list[ContextEvent]:
    taken: list[ContextEvent] = []
    with anyio.fail_after(15):
        async for event in stream:
            taken.append(event)
            if len(taken) == count:
                break
    return taken


async def test_event_log_resumes_after_the_acked_cursor(connections) -> None:
    items = ContextItems(connections["context"])
    for item_id in "abc":
        await items.put("signals.email", item_id, 1)
    log = EventLog(connections["context"])
    async with log.follow("scheduler", ["signals.*"]) as stream:
        first = await take(stream, 2)
    assert [event.id for event in first] == ["a", "b"]
    await log.ack("scheduler", first[-1].seq)
    async with EventLog(connections["context"]).follow("scheduler", ["signals.*"]) as stream:
        again = await take(stream, 1)
    assert [(event.id, event.op) for event in again] == [("c", "store")]


async def test_event_log_wakes_on_a_matching_write_when_caught_up(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put("signals.email", "old", 1)
    log = EventLog(connections["context"], idle_poll=60)  # beyond the test's patience: only a wake-up helps
    received: list[ContextEvent] = []
    caught_up = anyio.Event()
    async with log.follow("feeds", ["signals.*"]) as stream:

        async def consume() -> None:
            async for event in stream:
                received.append(event)
                caught_up.set()
                if len(received) == 2:
                    return

        with anyio.fail_after(15):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(consume)
                await caught_up.wait()
                await items.put("raw.email", "ignored", 1)
                await items.put("signals.calendar", "new", 1)
    assert [(event.namespace, event.id) for event in received] == [
        ("signals.email", "old"),
        ("signals.calendar", "new"),
    ]


async def test_event_log_follows_from_a_given_seq_without_a_consumer(connections) -> None:
    items = ContextItems(connections["context"])
    for item_id in "xyz":
        await items.put("chat.messages", item_id, {"role": "user"})
    log = EventLog(connections["context"])
    assert await log.last_seq() == 3
    async with log.follow(None, ["chat.messages"], after=1) as stream:
        rest = await take(stream, 2)
    assert [event.id for event in rest] == ["y", "z"]
