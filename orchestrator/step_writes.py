"""What each scheduler step leaves to store: the scheduler's state, the inbox bridge's cursor and the
step's activity record. They go in one `store_many`, at most every `SAVE_SECONDS` (a first sync
makes a step every second or so), and once more when Pepper stops (`flush`). A crash in between
replays the events of the last seconds' steps from the log: delivery stays at-least-once."""

from __future__ import annotations

from typing import Any

import anyio

from orchestrator.activity import Activity
from orchestrator.inbox_bridge import InboxBridge
from orchestrator.persistence import ContextStateStore
from orchestrator.supervision.paced import Paced

__all__ = ["StepWrites"]

SAVE_SECONDS = 3.0


class StepWrites:
    def __init__(self, inbox: InboxBridge, state: ContextStateStore, activity: Activity) -> None:
        self._inbox, self._state, self._activity = inbox, state, activity
        self._records: list[dict[str, Any]] = []
        self._pace = Paced(self.flush, SAVE_SECONDS)
        self._lock = anyio.Lock()

    def after_step(self, seqs: list[int], text: str, **details: Any) -> None:
        """A step was taken: its events leave the inbox, its record joins the next save."""
        self._inbox.taken(*seqs)
        self._records.append(self._activity.entry("step", text, **details))
        self._pace.ask()

    async def run(self) -> None:
        """Save whenever a step left something, at most every SAVE_SECONDS."""
        await self._pace.run()

    async def flush(self) -> None:
        """Store what the steps since the last save left, in one call."""
        async with self._lock:
            records, self._records = self._records, []
            state = self._state.unsaved_item()
            if records or state:
                await self._inbox.save([*records, *([state] if state else [])])
