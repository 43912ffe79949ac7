"""From the context store to the scheduler: what the user says (`chat.messages`, role user) and what
the feeds found (`signals.*`), as one named consumer, `scheduler.inbox`.

An event is acked only once the scheduler has taken it into a step, and only as a contiguous prefix of
the log (the queue serves by priority, not in order): the cursor moves up to the oldest event still
waiting. The cursor and the seqs handled above it are saved with each step's other writes
(`state.inbox/handled`, in one `store_many`), so after a crash only what was never handled is
replayed: no message is answered twice, and notifications carry the signal's id as their dedupe key
besides. The log's own cursor (`ack`) follows at most every `ACK_SECONDS`: between two acks the
saved cursor tells what was handled.
"""

from __future__ import annotations

from typing import Any

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent, EventLog
from orchestrator.feeds.signals import PRIORITY_ORDER
from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent
from orchestrator.scheduler.loop import Scheduler

__all__ = ["AckTracker", "InboxBridge"]

CONSUMER = "scheduler.inbox"
HANDLED = ("state.inbox", "handled")
ACK_SECONDS = 30.0


class AckTracker:
    """Which seqs are out; `done(seq)` returns the new cursor when the prefix below it closes."""

    def __init__(self) -> None:
        self._open: set[int] = set()
        self._closed: set[int] = set()
        self._highest = 0

    def opened(self, seq: int) -> None:
        self._open.add(seq)
        self._highest = max(self._highest, seq)

    @property
    def handled_above_cursor(self) -> list[int]:
        return sorted(self._closed)

    def done(self, seq: int) -> int | None:
        self._open.discard(seq)
        self._closed.add(seq)
        floor = min(self._open) if self._open else self._highest + 1
        acked = [s for s in self._closed if s < floor]
        if not acked:
            return None
        self._closed -= set(acked)
        return max(acked)


class InboxBridge:
    def __init__(self, items: ContextItems, log: EventLog, scheduler: Scheduler) -> None:
        self._items = items
        self._log = log
        self._scheduler = scheduler
        self.tracker = AckTracker()
        self.cursor = 0  # handled up to here (saved), acked to the log at most every ACK_SECONDS
        self._saved = 0  # the cursor as stored
        self._acked = 0
        self._acked_at = -ACK_SECONDS

    async def run(self) -> None:
        saved = await self._items.get(*HANDLED)
        data = saved.data if saved is not None and isinstance(saved.data, dict) else {}
        already, done_to = set(data.get("seqs", [])), int(data.get("cursor", 0))
        async with self._log.follow(CONSUMER, ["signals.*", "chat.messages"], with_items=True) as events:
            async for page in events.pages():
                skipped = []
                for event in page:
                    self.tracker.opened(event.seq)
                    handled = event.seq in already or event.seq <= done_to
                    item = event.item if not handled else None
                    scheduled = to_scheduler_event(event, item.data if item is not None else None)
                    if scheduled is None:
                        skipped.append(event.seq)
                    else:
                        await self._scheduler.put(scheduled)
                await self.handled(*skipped)

    async def handled(self, *seqs: int, writes: list[dict[str, Any]] | None = None) -> None:
        """The scheduler took the events with these seqs into a step: move the cursor if it can,
        saving it with `writes` (the step's other items) in one call."""
        if not seqs and not writes:
            return
        self.taken(*seqs)
        await self.save(writes or [])

    def taken(self, *seqs: int) -> None:
        """The scheduler took these seqs into a step: move the cursor (in memory: `save` stores it)."""
        cursors = [cursor for seq in seqs if (cursor := self.tracker.done(seq)) is not None]
        self.cursor = max([self.cursor, *cursors])

    async def save(self, writes: list[dict[str, Any]]) -> None:
        """Store the cursor and the seqs handled above it with `writes`, in one call; ack the log
        when the last ack is older than ACK_SECONDS."""
        state = {"seqs": self.tracker.handled_above_cursor, "cursor": self.cursor}
        await self._items.put_many([{"namespace": HANDLED[0], "id": HANDLED[1], "data": state}, *writes])
        self._saved = max(self._saved, state["cursor"])
        if anyio.current_time() - self._acked_at >= ACK_SECONDS:
            await self.ack()

    async def ack(self) -> None:
        """Move the log's cursor up to the saved one (after a save, and when Pepper stops)."""
        if self._saved > self._acked:
            saved = self._saved
            await self._log.ack(CONSUMER, saved)
            self._acked, self._acked_at = saved, anyio.current_time()


def to_scheduler_event(event: ContextEvent, data: Any) -> SchedulerEvent | None:
    """The scheduler's view of a logged write, or None for what it does not act on."""
    if not isinstance(data, dict):
        return None
    if event.namespace == "chat.messages":
        if data.get("role") != "user" or data.get("command"):
            return None
        return SchedulerEvent(
            kind=EventKind.USER_MESSAGE, content=data.get("text", ""), attributes={"seq": event.seq}
        )
    return SchedulerEvent(
        kind=EventKind.SIGNAL,
        content=data.get("summary", ""),
        priority=Priority(PRIORITY_ORDER.get(data.get("priority", "normal"), 2)),
        source=data.get("kind", event.namespace),
        attributes={
            "id": event.id,
            "seq": event.seq,
            "link": data.get("link"),
            "reasons": data.get("reasons", []),
        },
    )
