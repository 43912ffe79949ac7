"""The inbox bridge over a real context store: what the scheduler took into a step is saved with the
step's writes, so a restart hands it nothing twice even when the log's own cursor lags behind."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.activity import Activity
from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.inbox_bridge import InboxBridge
from orchestrator.mcp_clients import ServerConnection
from orchestrator.persistence import ContextStateStore
from orchestrator.scheduler.events import SchedulerEvent
from orchestrator.scheduler.history import HistoryEntry
from orchestrator.step_writes import StepWrites

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


class TakingScheduler:
    """Takes what the bridge puts; `arrived` is set once `expected` events came."""

    def __init__(self, expected: int) -> None:
        self.events: list[SchedulerEvent] = []
        self.expected = expected
        self.arrived = anyio.Event()

    async def put(self, event: SchedulerEvent) -> None:
        self.events.append(event)
        if len(self.events) >= self.expected:
            self.arrived.set()


async def bridge_until(
    items: ContextItems, log: EventLog, expected: int
) -> tuple[InboxBridge, TakingScheduler]:
    scheduler = TakingScheduler(expected)
    bridge = InboxBridge(items, log, scheduler)  # type: ignore[arg-type]
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(bridge.run)
        with anyio.fail_after(30):
            await scheduler.arrived.wait()
        task_group.cancel_scope.cancel()
    return bridge, scheduler


async def test_a_step_saves_its_writes_in_one_call_and_a_restart_replays_only_what_was_not_taken(
    connections: dict[str, ServerConnection],
) -> None:
    context = connections["context"]
    items, log = ContextItems(context), EventLog(context, idle_poll=1.0)
    for n in range(3):
        await items.put(
            "signals.email", f"s{n}", {"kind": "email", "summary": f"mail {n}", "priority": "high"}
        )
    bridge, scheduler = await bridge_until(items, log, 3)
    first, second, third = (int(event.attributes["seq"]) for event in scheduler.events)
    await bridge.handled(first)  # a step: acks the log (the first ack is at once)
    calls = dict(context.calls)
    step = {"namespace": "activity.log", "id": "step-2", "data": {"kind": "step", "text": "step 2"}}
    await bridge.handled(third, writes=[step])  # the next step, within the ack interval
    made = {tool: n - calls.get(tool, 0) for tool, n in context.calls.items() if n != calls.get(tool, 0)}
    assert made == {"store_many": 1}  # the cursor and the step's record together; no ack yet
    assert await items.get("activity.log", "step-2") is not None

    _, again = await bridge_until(items, log, 1)  # a restart
    assert [int(event.attributes["seq"]) for event in again.events] == [second]


async def test_the_writes_of_several_steps_are_stored_in_one_call(
    connections: dict[str, ServerConnection],
) -> None:
    context = connections["context"]
    items, log = ContextItems(context), EventLog(context, idle_poll=1.0)
    for n in range(3):
        await items.put("signals.email", f"s{n}", {"kind": "email", "summary": f"mail {n}"})
    bridge, scheduler = await bridge_until(items, log, 3)
    state = ContextStateStore(items, deferred=True)
    writes = StepWrites(bridge, state, Activity(items))
    calls = context.calls["store_many"] + context.calls["store"]
    for n, event in enumerate(scheduler.events):  # three steps in quick succession
        await state.save([HistoryEntry(kind="event", content=event.content)], [])
        writes.after_step([int(event.attributes["seq"])], f"step {n}")
    await writes.flush()
    assert context.calls["store_many"] + context.calls["store"] - calls == 1
    history, _ = await ContextStateStore(items).load()
    assert [entry.content for entry in history] == ["mail 2"]
    assert len(await items.query(["activity.log"], ["step"])) == 3
    await items.put("signals.email", "s3", {"kind": "email", "summary": "mail 3"})
    _, again = await bridge_until(items, log, 1)
    assert [event.content for event in again.events] == ["mail 3"]  # the three taken: none replayed
