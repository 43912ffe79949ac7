"""EventQueue: user messages first, then priority, FIFO within a level, a documented overflow rule."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent
from orchestrator.scheduler.queue import EventQueue


def signal(name: str, priority: Priority = Priority.NORMAL) -> SchedulerEvent:
    return SchedulerEvent(kind=EventKind.SIGNAL, content=name, priority=priority)


def user(text: str) -> SchedulerEvent:
    return SchedulerEvent(kind=EventKind.USER_MESSAGE, content=text, priority=Priority.LOW)


def test_queue_serves_user_messages_then_priority_then_arrival_order() -> None:
    queue = EventQueue()
    for event in [
        signal("low", Priority.LOW),
        signal("n1"),
        user("hi"),
        signal("urgent", Priority.URGENT),
        signal("n2"),
    ]:
        assert queue.put(event) == []
    assert [e.content for e in queue.take_nowait(10)] == ["hi", "urgent", "n1", "n2", "low"]


def test_queue_overflow_evicts_least_important_newest_for_a_more_important_event() -> None:
    queue = EventQueue(max_size=3)
    for event in [signal("low-old", Priority.LOW), signal("low-new", Priority.LOW), signal("n")]:
        queue.put(event)
    lost = queue.put(signal("high", Priority.HIGH))
    assert [e.content for e in lost] == ["low-new"]
    assert [e.content for e in queue.take_nowait(10)] == ["high", "n", "low-old"]
    assert queue.overflowed == 1


def test_queue_overflow_refuses_an_event_no_more_important_than_the_queue() -> None:
    queue = EventQueue(max_size=2)
    queue.put(signal("a"))
    queue.put(signal("b"))
    lost = queue.put(signal("c"))
    assert [e.content for e in lost] == ["c"]
    assert len(queue) == 2


def test_queue_never_refuses_user_messages_when_full() -> None:
    queue = EventQueue(max_size=1)
    queue.put(user("first"))
    assert queue.put(user("second")) == []
    assert [e.content for e in queue.take_nowait(5)] == ["first", "second"]


@pytest.mark.anyio
async def test_queue_take_batch_waits_for_the_first_event() -> None:
    queue = EventQueue()
    taken: list[str] = []

    async def consume() -> None:
        taken.extend(e.content for e in await queue.take_batch(5))

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        assert taken == []
        queue.put(signal("wake"))
    assert taken == ["wake"]
