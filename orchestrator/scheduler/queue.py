"""A bounded priority queue of scheduler events.

Order: user messages first, then by priority, first-in first-out within a level. Overflow rule: when
the queue is full, a new event evicts the least important queued event (lowest priority; the newest of
those) if the new one is more important, else the new event is the one refused. User messages are never
refused or evicted: they may take the queue past its bound. Evicted and refused events are returned to
the caller, which reports them (their sources, such as signals in the context store, keep them).
"""

from __future__ import annotations

import heapq
from itertools import count

import anyio

from orchestrator.scheduler.events import EventKind, SchedulerEvent

__all__ = ["EventQueue"]


class EventQueue:
    """Priority queue with a bound and a documented overflow rule; `take_batch` waits for work."""

    def __init__(self, max_size: int = 1000) -> None:
        self.max_size = max_size
        self._heap: list[tuple[tuple[int, int], int, SchedulerEvent]] = []
        self._arrivals = count()
        self._nonempty = anyio.Event()
        self.overflowed = 0

    def __len__(self) -> int:
        return len(self._heap)

    def put(self, event: SchedulerEvent) -> list[SchedulerEvent]:
        """Queue `event`; returns the events that overflow cost (empty when nothing was lost)."""
        entry = (event.order_key(), next(self._arrivals), event)
        lost: list[SchedulerEvent] = []
        if len(self._heap) >= self.max_size and event.kind is not EventKind.USER_MESSAGE:
            victim = self._least_important()
            if victim is None or victim[:2] <= entry[:2]:
                lost.append(event)
                self.overflowed += 1
                return lost
            self._heap.remove(victim)
            heapq.heapify(self._heap)
            lost.append(victim[2])
            self.overflowed += 1
        heapq.heappush(self._heap, entry)
        self._nonempty.set()
        return lost

    def _least_important(self) -> tuple[tuple[int, int], int, SchedulerEvent] | None:
        candidates = [e for e in self._heap if e[2].kind is not EventKind.USER_MESSAGE]
        return max(candidates, key=lambda e: (e[0], e[1])) if candidates else None

    def take_nowait(self, limit: int) -> list[SchedulerEvent]:
        """Up to `limit` events, most important first."""
        batch = [heapq.heappop(self._heap)[2] for _ in range(min(limit, len(self._heap)))]
        if not self._heap:
            self._nonempty = anyio.Event()
        return batch

    async def take_batch(self, limit: int) -> list[SchedulerEvent]:
        """Wait until there is at least one event, then take up to `limit`."""
        while not self._heap:
            await self._nonempty.wait()
        return self.take_nowait(limit)

    def snapshot(self) -> list[SchedulerEvent]:
        """The queued events in serving order, for persistence."""
        return [entry[2] for entry in sorted(self._heap)]
