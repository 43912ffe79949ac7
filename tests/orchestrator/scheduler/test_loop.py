"""The scheduler answers while tool calls run in the background, and hears their results later."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from orchestrator.scheduler.engine import MemoryJournal, PendingCall, ToolCallEngine
from orchestrator.scheduler.events import EventKind, SchedulerEvent
from orchestrator.scheduler.history import HistoryEntry
from orchestrator.scheduler.loop import Decision, ProposedCall, Scheduler, StepInput, ToolDescription

pytestmark = pytest.mark.anyio

TOOLS = [ToolDescription(name="slow_search", description="Searches slowly.")]


class ScriptedBrain:
    """Decides from a list of decisions, one per step, and remembers what it was shown."""

    def __init__(self, *decisions: Decision) -> None:
        self.decisions = list(decisions)
        self.seen: list[str] = []

    async def decide(self, step: StepInput) -> Decision:
        self.seen.append(step.history)
        return self.decisions.pop(0) if self.decisions else Decision()


class GatedRunner:
    """A tool whose calls finish only when the test opens the gate."""

    def __init__(self) -> None:
        self.gate = anyio.Event()
        self.started: list[str] = []

    async def __call__(self, call: PendingCall) -> str:
        self.started.append(call.id)
        if call.arguments.get("fail"):
            raise ValueError("the index is locked")
        await self.gate.wait()
        return f"results for {call.arguments['query']}"


async def no_summary(entries: Sequence[HistoryEntry]) -> str:
    return "summary"


def build(
    brain: ScriptedBrain, runner: GatedRunner, journal: MemoryJournal | None = None, timeout: float = 30
):
    replies: list[str] = []

    async def reply(text: str) -> None:
        replies.append(text)

    scheduler: Scheduler

    async def deliver(event: SchedulerEvent) -> None:
        await scheduler.put(event)

    engine = ToolCallEngine(runner, deliver, journal or MemoryJournal(), limit=4, timeout=timeout)
    scheduler = Scheduler(brain, engine, TOOLS, reply, no_summary)
    return scheduler, replies


def user(text: str) -> SchedulerEvent:
    return SchedulerEvent(kind=EventKind.USER_MESSAGE, content=text)


async def test_scheduler_answers_user_while_tool_calls_are_in_flight() -> None:
    calls = [ProposedCall(id=f"c{i}", name="slow_search", arguments={"query": f"q{i}"}) for i in range(20)]
    brain = ScriptedBrain(Decision(reply="Searching.", calls=calls), Decision(reply="Still here."))
    runner = GatedRunner()
    scheduler, replies = build(brain, runner)
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("find everything"))
        await scheduler.step()
        await scheduler.put(user("are you there?"))
        with anyio.fail_after(5):
            await scheduler.step()
        assert replies == ["Searching.", "Still here."]
        assert len(scheduler.engine.in_flight) == 20
        runner.gate.set()
    assert scheduler.engine.in_flight == {}


async def test_scheduler_sees_tool_results_in_a_later_step() -> None:
    brain = ScriptedBrain(
        Decision(calls=[ProposedCall(id="c1", name="slow_search", arguments={"query": "tax"})])
    )
    runner = GatedRunner()
    runner.gate.set()
    scheduler, _ = build(brain, runner)
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("tax?"))
        await scheduler.step()
        with anyio.fail_after(5):
            await scheduler.step()
    assert '<tool_result id="c1" ok="true">results for tax</tool_result>' in brain.seen[-1]


async def test_scheduler_answers_bad_calls_with_an_error_result_without_running_them() -> None:
    bad = ProposedCall(id="c1", name="nope", error="there is no tool named 'nope'")
    brain = ScriptedBrain(Decision(calls=[bad]))
    runner = GatedRunner()
    scheduler, _ = build(brain, runner)
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("do it"))
        await scheduler.step()
        await scheduler.step()
    assert runner.started == []
    assert '<tool_result id="c1" ok="false">there is no tool named \'nope\'</tool_result>' in brain.seen[-1]


async def test_engine_reports_failures_and_timeouts_as_results() -> None:
    calls = [
        ProposedCall(id="boom", name="slow_search", arguments={"query": "x", "fail": True}),
        ProposedCall(id="slow", name="slow_search", arguments={"query": "y"}),
    ]
    brain = ScriptedBrain(Decision(calls=calls))
    scheduler, _ = build(brain, GatedRunner(), timeout=0.2)
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("go"))
        await scheduler.step()
        with anyio.fail_after(5):
            while len(scheduler.queue) < 2:  # noqa: ASYNC110 - results land through the engine's tasks
                await anyio.sleep(0.01)
    results = {e.attributes["id"]: e for e in scheduler.queue.take_nowait(5)}
    assert results["boom"].content == "slow_search failed: the index is locked"
    assert results["slow"].content.startswith("slow_search did not finish within 0.2 s: it may or may not")
    assert not results["boom"].attributes["ok"] and not results["slow"].attributes["ok"]


async def test_engine_resume_reruns_journaled_calls_after_a_restart() -> None:
    journal = MemoryJournal()
    brain = ScriptedBrain(
        Decision(calls=[ProposedCall(id="c1", name="slow_search", arguments={"query": "q"})])
    )
    first_runner = GatedRunner()
    scheduler, _ = build(brain, first_runner, journal)
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("go"))
        await scheduler.step()
        task_group.cancel_scope.cancel()  # the process dies with the call in flight
    assert list(journal.calls) == ["c1"]

    second_runner = GatedRunner()
    second_runner.gate.set()
    restarted, _ = build(ScriptedBrain(), second_runner, journal)
    async with anyio.create_task_group() as task_group:
        restarted.engine.bind(task_group)
        resumed = await restarted.engine.resume()
    assert [c.id for c in resumed] == ["c1"]
    assert second_runner.started == ["c1"]
    assert journal.calls == {}
    assert restarted.queue.take_nowait(1)[0].content == "results for q"


async def test_quiet_tool_results_are_recorded_without_waking_the_scheduler() -> None:
    brain = ScriptedBrain(
        Decision(calls=[ProposedCall(id="n1", name="slow_search", arguments={"query": "q"})])
    )
    runner = GatedRunner()
    runner.gate.set()
    scheduler, _ = build(brain, runner)
    scheduler.quiet_tools = frozenset({"slow_search"})
    async with anyio.create_task_group() as task_group:
        scheduler.engine.bind(task_group)
        await scheduler.put(user("go"))
        await scheduler.step()
    assert len(scheduler.queue) == 0
    assert scheduler.history.entries[-1].kind == "tool_result"
    assert scheduler.history.pending_call_ids() == set()
