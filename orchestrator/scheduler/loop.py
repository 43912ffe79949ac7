"""The scheduler loop: take a batch of events, let the brain decide, start its tool calls, repeat.

The brain is whatever decides (an LLM adapter, or the rules engine in rules mode); it sees the rendered
history and the tools and returns text for the user and tool calls. Calls run in the engine in the
background; the loop is at once free for the next event, so a user message is answered while earlier
calls are still running. A call the brain got wrong (bad arguments, unknown tool) is answered at once
with an error result that the brain sees on its next step. After each step the state is saved.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio
from anyio.abc import TaskStatus
from pydantic import BaseModel, Field

from orchestrator.scheduler.engine import PendingCall, ToolCallEngine
from orchestrator.scheduler.events import EventKind, SchedulerEvent
from orchestrator.scheduler.history import History, HistoryEntry, Summarizer
from orchestrator.scheduler.queue import EventQueue

__all__ = ["Brain", "Decision", "ProposedCall", "Scheduler", "StateStore", "StepInput", "ToolDescription"]


class ToolDescription(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class ProposedCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(None, description="Why the call cannot run as given (bad JSON, unknown tool)")


class Decision(BaseModel):
    reply: str | None = None
    calls: list[ProposedCall] = Field(default_factory=list)


class StepInput(BaseModel):
    """What the brain sees at a step: the rendered history (which ends with the new events), the new
    events themselves, and the tools it may call."""

    history: str
    batch: list[SchedulerEvent]
    tools: list[ToolDescription]


class Brain(Protocol):
    async def decide(self, step: StepInput) -> Decision: ...


class StateStore(Protocol):
    async def save(self, entries: list[HistoryEntry], queued: list[SchedulerEvent]) -> None: ...


class Scheduler:
    """Serves the queue one step at a time; `put` is how every producer hands it an event."""

    def __init__(
        self,
        brain: Brain,
        engine: ToolCallEngine,
        tools: list[ToolDescription],
        reply: Callable[[str], Awaitable[None]],
        summarize: Summarizer,
        *,
        history: History | None = None,
        queue: EventQueue | None = None,
        state: StateStore | None = None,
        batch_size: int = 8,
        quiet_tools: frozenset[str] = frozenset(),
        on_step: Callable[[list[SchedulerEvent], Decision], Awaitable[None]] | None = None,
    ) -> None:
        self.brain, self.engine, self.tools = brain, engine, tools
        self._reply, self._summarize, self._state = reply, summarize, state
        self.history = history or History()
        self.queue = queue or EventQueue()
        self.batch_size = batch_size
        self.quiet_tools = quiet_tools
        self._on_step = on_step
        self.steps = 0
        self.lost: list[SchedulerEvent] = []

    async def put(self, event: SchedulerEvent) -> None:
        """Queue an event. A quiet tool's successful result (a notification sent, say) is only
        recorded: it needs no step of its own."""
        quiet = event.kind is EventKind.TOOL_RESULT and event.source in self.quiet_tools
        if quiet and event.attributes.get("ok", True):
            self.history.add(entry_for(event))
            return
        self.lost.extend(self.queue.put(event))

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as task_group:
            self.engine.bind(task_group)
            await self.engine.resume()
            task_status.started()
            while True:
                await self.step()

    async def step(self) -> None:
        """One step: a batch of events in, a decision out, tool calls started."""
        batch = await self.queue.take_batch(self.batch_size)
        for event in batch:
            self.history.add(entry_for(event))
        if self.lost:
            dropped, self.lost = len(self.lost), []
            self.history.add(HistoryEntry(kind="event", content=f"{dropped} events dropped by overflow"))
        await self.history.compact(self._summarize)
        decision = await self.brain.decide(
            StepInput(history=self.history.render(), batch=batch, tools=self.tools)
        )
        if decision.reply:
            self.history.add(HistoryEntry(kind="assistant", content=decision.reply))
            await self._reply(decision.reply)
        origin = origin_of(batch)
        for call in decision.calls:
            await self._start(call, origin)
        self.steps += 1
        if self._state is not None:
            await self._state.save(self.history.entries, self.queue.snapshot())
        if self._on_step is not None:
            await self._on_step(batch, decision)

    async def _start(self, call: ProposedCall, origin: dict[str, Any]) -> None:
        self.history.add(
            HistoryEntry(
                kind="tool_call",
                call_id=call.id,
                content=_arguments_text(call),
                attributes={"name": call.name},
            )
        )
        if call.error is not None:
            await self.put(
                SchedulerEvent(
                    kind=EventKind.TOOL_RESULT,
                    content=call.error,
                    source=call.name,
                    attributes={"id": call.id, "ok": False},
                )
            )
            return
        await self.engine.submit(
            PendingCall(id=call.id, name=call.name, arguments=call.arguments, origin=origin)
        )


def origin_of(batch: list[SchedulerEvent]) -> dict[str, Any]:
    """The user's messages and the signals of a batch: where a call made in that step came from."""
    messages = [event.content[:2000] for event in batch if event.kind is EventKind.USER_MESSAGE]
    signals = [
        {
            "id": event.attributes.get("id"),
            "link": event.attributes.get("link"),
            "summary": event.content[:300],
        }
        for event in batch
        if event.kind is EventKind.SIGNAL
    ]
    return {"user_messages": messages, "signals": signals}


def _arguments_text(call: ProposedCall) -> str:
    return json.dumps(call.arguments, sort_keys=True, ensure_ascii=False)


def entry_for(event: SchedulerEvent) -> HistoryEntry:
    """The history entry an event becomes: results keep their call id, the rest are tagged events."""
    if event.kind is EventKind.TOOL_RESULT:
        attributes = {"ok": event.attributes.get("ok", True)}
        return HistoryEntry(
            kind="tool_result",
            call_id=str(event.attributes.get("id")),
            content=event.content,
            attributes=attributes,
            at=event.at,
        )
    if event.kind is EventKind.USER_MESSAGE:
        return HistoryEntry(kind="user_msg", content=event.content, at=event.at)
    attributes = {"type": event.kind.value, "priority": event.priority.name.lower(), "source": event.source}
    attributes.update({k: v for k, v in event.attributes.items() if k not in attributes})
    return HistoryEntry(kind="event", content=event.content, attributes=attributes, at=event.at)
