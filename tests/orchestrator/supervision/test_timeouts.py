"""Timed-out calls, by class: reads and idempotent or keyed calls are made again with backoff, a
write is never repeated blindly and says it may have happened (a real server that stalls), and the
scheduler's engine runs a timed-out notification again under its id but never a delegation."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from orchestrator.mcp_clients import RemoteTool, ServerConnection, ServerSpec, ToolCallTimeout
from orchestrator.scheduler.engine import MemoryJournal, PendingCall, ToolCallEngine
from orchestrator.scheduler.events import SchedulerEvent
from orchestrator.scheduler_tools import SchedulerToolRunner
from orchestrator.supervision.retry import PatientConnection
from orchestrator.supervision.timeouts import Backoff, CallKind, OutcomeUnknown, classify
from orchestrator.workers.toolbox import Toolbox
from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.anyio

PEER = ServerSpec(
    name="peer",
    command=[sys.executable, "-m", "tests.support.peer_server"],
    env={"PYTHONPATH": str(REPO_ROOT)},
)
QUICK = Backoff(attempts=3, first_pause=0.05)


@asynccontextmanager
async def peer(call_timeout: float = 3.0) -> AsyncIterator[ServerConnection]:
    connection = ServerConnection(PEER, call_timeout=call_timeout, init_timeout=60)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        with anyio.fail_after(60):
            await connection.wait_available()
        yield connection
        task_group.cancel_scope.cancel()


async def calls(connection: ServerConnection, key: str) -> int:
    return int((await connection.call_tool("calls", {"key": key})).text)


def tool(read_only: bool = False, idempotent: bool = False) -> RemoteTool:
    return RemoteTool(server="s", name="t", read_only=read_only, idempotent=idempotent)


@pytest.mark.parametrize(
    ("annotations", "server", "name", "arguments", "kind"),
    [
        (tool(read_only=True), "gmail", "search", {}, CallKind.READ),
        (tool(idempotent=True), "notify", "mark_read", {"all": True}, CallKind.REPEATABLE),
        (tool(), "context", "store", {"namespace": "n", "id": "x"}, CallKind.REPEATABLE),
        (tool(), "context", "store", {"namespace": "n"}, CallKind.WRITE),
        (tool(), "context", "store_many", {"items": [{"id": "a"}, {"id": "b"}]}, CallKind.REPEATABLE),
        (tool(), "context", "store_many", {"items": [{"id": "a"}, {}]}, CallKind.WRITE),
        (tool(), "notify", "send_notification", {"title": "t", "dedupe_key": "k"}, CallKind.REPEATABLE),
        (tool(), "notify", "send_notification", {"title": "t"}, CallKind.WRITE),
        (tool(), "gmail", "send_email", {"id": "a message id is no idempotency key"}, CallKind.WRITE),
        (None, "calendar", "list_events", {}, CallKind.WRITE),  # annotations unknown: a write
    ],
)
def test_classify_by_annotations_and_idempotency_keys(
    annotations: RemoteTool | None, server: str, name: str, arguments: dict[str, Any], kind: CallKind
) -> None:
    assert classify(annotations, server, name, arguments) is kind


async def test_a_read_that_timed_out_is_made_again_and_answers() -> None:
    async with peer() as connection:
        patient = PatientConnection(connection, QUICK)
        outcome = await patient.call_tool("stalled_read", {"key": "r", "stalls": 1})
        assert outcome.text == "2" and await calls(connection, "r") == 2


async def test_a_read_that_keeps_timing_out_gives_up_after_its_attempts_and_says_retrying_is_safe() -> None:
    async with peer() as connection:
        patient = PatientConnection(connection, QUICK)
        with pytest.raises(
            ToolCallTimeout, match=r"\(3 attempts\): gave up for now; it is safe to try"
        ) as caught:
            await patient.call_tool("stalled_read", {"key": "r", "stalls": 10})
        assert not isinstance(caught.value, OutcomeUnknown)
        assert await calls(connection, "r") == 3


async def test_a_write_that_timed_out_is_not_repeated_and_says_it_may_have_happened() -> None:
    async with peer() as connection:
        patient = PatientConnection(connection, QUICK)
        with pytest.raises(OutcomeUnknown, match="may or may not have taken effect, and it was not repeated"):
            await patient.call_tool("stalled_write", {"key": "w", "stalls": 1})
        assert await calls(connection, "w") == 1


async def test_workers_toolbox_repeats_a_timed_out_read_but_not_a_write() -> None:
    async with peer() as connection:
        toolbox = Toolbox({"peer": connection})
        with anyio.fail_after(60):  # a loaded machine may miss the first listing's deadline
            while "stalled_write" not in (tools := {t.name: t for t in await toolbox.load()}):
                await connection.wait_available()
        assert await toolbox.call(tools["stalled_read"], {"key": "r", "stalls": 1}) == "2"
        with pytest.raises(OutcomeUnknown):
            await toolbox.call(tools["stalled_write"], {"key": "w", "stalls": 1})
        assert (await calls(connection, "r"), await calls(connection, "w")) == (2, 1)


async def run_engine(name: str, timeouts_first: int) -> tuple[list[str], list[SchedulerEvent]]:
    attempts: list[str] = []
    results: list[SchedulerEvent] = []

    async def runner(call: PendingCall) -> str:
        attempts.append(call.id)
        if len(attempts) <= timeouts_first:
            raise TimeoutError(f"notify.send_notification did not answer within 0.1 s (try {len(attempts)})")
        return "sent"

    async def deliver(event: SchedulerEvent) -> None:
        results.append(event)

    engine = ToolCallEngine(
        runner, deliver, MemoryJournal(), repeatable=SchedulerToolRunner.repeatable, first_pause=0.01
    )
    with anyio.fail_after(10):
        async with anyio.create_task_group() as task_group:
            engine.bind(task_group)
            await engine.submit(PendingCall(id="call-1", name=name, arguments={}))
    return attempts, results


async def test_engine_runs_a_timed_out_notification_again_under_its_id() -> None:
    attempts, results = await run_engine("notify", timeouts_first=2)
    assert attempts == ["call-1"] * 3
    assert [(e.attributes["ok"], e.content) for e in results] == [(True, "sent")]


async def test_engine_gives_up_on_a_notification_after_three_timeouts_saying_so() -> None:
    attempts, results = await run_engine("notify", timeouts_first=5)
    assert len(attempts) == 3
    [result] = results
    assert result.attributes["ok"] is False
    assert "(3 attempts): gave up for now; it is safe to ask for it again later" in result.content


async def test_engine_never_runs_a_timed_out_delegation_again_and_says_it_may_have_happened() -> None:
    attempts, results = await run_engine("delegate", timeouts_first=1)
    assert attempts == ["call-1"]
    [result] = results
    assert result.attributes["ok"] is False
    assert "may or may not have taken effect, so it was not run again" in result.content
