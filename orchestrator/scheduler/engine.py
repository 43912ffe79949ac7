"""The tool-call engine: runs the scheduler's tool calls in the background.

A submitted call starts at once (under a concurrency limit and a timeout) and the caller goes on; its
outcome arrives later as a `tool_result` event through `deliver`. Every call is written to a journal
before it starts and removed after its result is delivered, so after a restart `resume()` runs again
each call that had no result. Calls carry their id, which tools use as an idempotency key, so a call
that did finish before the crash but was not yet cleared is harmless to repeat.

A call whose server was unreachable (the runner raises `RetryLater`) has no result yet: it stays in
the journal, gives up its slot, and runs again under the same id once `ready()` returns (the server is
back), so a notification is delivered at least once, never dropped because the notify server was
restarting. A tool's own error is a result like any other. A call past its timeout (the engine's
own, or its server's: the runner raises `TimeoutError`) is run again, after a pause that doubles, only
when `repeatable(call)` says a second run is harmless (a read, a notification under its dedupe key),
at most `timeout_attempts` times in all; any other call that timed out is reported as one that may
have taken effect, and not run again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel, Field

from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent

__all__ = ["CallJournal", "MemoryJournal", "PendingCall", "RetryLater", "ToolCallEngine", "ToolRunner"]

logger = logging.getLogger(__name__)


class PendingCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    origin: dict[str, Any] = Field(
        default_factory=dict,
        description="What the step that made the call had in front of it: the user's messages and the "
        "signals (id, link, summary) of its batch; the trust boundary's provenance",
    )


class RetryLater(Exception):
    """Raised by a runner when the call could not reach its server: run it again after `ready()`."""

    def __init__(self, message: str, ready: Callable[[], Awaitable[None]]) -> None:
        super().__init__(message)
        self.ready = ready


class ToolRunner(Protocol):
    async def __call__(self, call: PendingCall) -> str:
        """Run one call; return its result as text, or raise with a message for the model."""
        ...


class CallJournal(Protocol):
    """Durable record of calls that have no delivered result yet."""

    async def record(self, call: PendingCall) -> None: ...
    async def clear(self, call_id: str) -> None: ...
    async def pending(self) -> list[PendingCall]: ...


class MemoryJournal:
    """A journal that lives as long as the process (for tests and rules-mode runs without a store)."""

    def __init__(self) -> None:
        self.calls: dict[str, PendingCall] = {}

    async def record(self, call: PendingCall) -> None:
        self.calls[call.id] = call

    async def clear(self, call_id: str) -> None:
        self.calls.pop(call_id, None)

    async def pending(self) -> list[PendingCall]:
        return list(self.calls.values())


class ToolCallEngine:
    """Runs calls concurrently (at most `limit` at once), each within `timeout` seconds."""

    def __init__(
        self,
        runner: ToolRunner,
        deliver: Callable[[SchedulerEvent], Awaitable[None]],
        journal: CallJournal,
        *,
        limit: int = 8,
        timeout: float = 120.0,
        repeatable: Callable[[PendingCall], bool] = lambda call: False,
        timeout_attempts: int = 3,
        first_pause: float = 0.5,
    ) -> None:
        self._runner = runner
        self._deliver = deliver
        self._journal = journal
        self._limiter = anyio.CapacityLimiter(limit)
        self._timeout = timeout
        self._repeatable = repeatable
        self._timeout_attempts = timeout_attempts
        self._first_pause = first_pause
        self._task_group: TaskGroup | None = None
        self.in_flight: dict[str, PendingCall] = {}

    def bind(self, task_group: TaskGroup) -> None:
        """Run calls in `task_group` (the scheduler's), so that shutdown cancels them cleanly."""
        self._task_group = task_group

    async def submit(self, call: PendingCall) -> None:
        """Journal the call and start it in the background; returns at once."""
        if self._task_group is None:
            raise RuntimeError("ToolCallEngine.bind(task_group) must come before submit()")
        await self._journal.record(call)
        self.in_flight[call.id] = call
        self._task_group.start_soon(self._run, call, name=f"tool call {call.id}")

    async def resume(self) -> list[PendingCall]:
        """Start again every journaled call that never delivered a result; returns them."""
        calls = await self._journal.pending()
        for call in calls:
            await self.submit(call)
        return calls

    async def _run(self, call: PendingCall) -> None:
        timeouts = 0
        while True:
            outcome = await self._attempt(call)
            if isinstance(outcome, tuple):
                result = outcome
                break
            if isinstance(outcome, RetryLater):
                logger.warning("tool call %s (%s) waits for its server: %s", call.id, call.name, outcome)
                await outcome.ready()  # outside the limiter: other calls go on meanwhile
                continue
            timeouts += 1
            if not self._repeatable(call) or timeouts >= self._timeout_attempts:
                result = (False, self._timed_out(call, outcome, timeouts))
                break
            pause = self._first_pause * 2 ** (timeouts - 1)
            logger.warning("tool call %s (%s) timed out; running it again in %g s", call.id, call.name, pause)
            await anyio.sleep(pause)
        ok, text = result
        await self._deliver(
            SchedulerEvent(
                kind=EventKind.TOOL_RESULT,
                content=text,
                priority=Priority.HIGH,
                source=call.name,
                attributes={"id": call.id, "ok": ok},
            )
        )
        await self._journal.clear(call.id)
        self.in_flight.pop(call.id, None)

    async def _attempt(self, call: PendingCall) -> tuple[bool, str] | RetryLater | TimeoutError:
        """One run of the call: (ok, text), or why it must be run again or reported as timed out."""
        async with self._limiter:
            try:
                with anyio.fail_after(self._timeout):
                    return True, await self._runner(call)
            except (RetryLater, TimeoutError) as exc:
                return exc
            except Exception as exc:  # the model hears about every failure; nothing escapes the engine
                return False, f"{call.name} failed: {exc}"

    def _timed_out(self, call: PendingCall, error: TimeoutError, attempts: int) -> str:
        said = str(error) or f"{call.name} did not finish within {self._timeout:g} s"
        if self._repeatable(call):
            return f"{said} ({attempts} attempts): gave up for now; it is safe to ask for it again later"
        return (
            f"{said}: it may or may not have taken effect, so it was not run again: check its "
            "result before asking for it again"
        )
