"""The scheduler's durable state in the context store: its history (`state.scheduler/history`) and
the tool calls still running (`state.tool_calls/<id>`), so a restart resumes where it stopped."""

from __future__ import annotations

from typing import Any

from orchestrator.context_items import ContextItems, store_item
from orchestrator.scheduler.engine import PendingCall
from orchestrator.scheduler.events import SchedulerEvent
from orchestrator.scheduler.history import HistoryEntry

__all__ = ["ContextCallJournal", "ContextStateStore"]

CALLS = "state.tool_calls"
STATE = ("state.scheduler", "history")


class ContextStateStore:
    """`StateStore`: the history after each step, and the events still queued. With `deferred`, a
    save is held for the caller to store with the step's other writes (`unsaved_item`)."""

    def __init__(self, items: ContextItems, deferred: bool = False) -> None:
        self._items = items
        self._deferred = deferred
        self._unsaved: dict[str, Any] | None = None

    async def save(self, entries: list[HistoryEntry], queued: list[SchedulerEvent]) -> None:
        data = {
            "entries": [entry.model_dump(mode="json") for entry in entries],
            "queued": [event.model_dump(mode="json") for event in queued],
        }
        if self._deferred:
            self._unsaved = store_item(*STATE, data)
            return
        await self._items.put(*STATE, data)

    def unsaved_item(self) -> dict[str, Any] | None:
        """The last deferred save as a `store_many` item (then counted as saved), or None."""
        item, self._unsaved = self._unsaved, None
        return item

    async def load(self) -> tuple[list[HistoryEntry], list[SchedulerEvent]]:
        stored = await self._items.get(*STATE)
        if stored is None or not isinstance(stored.data, dict):
            return [], []
        entries = [HistoryEntry.model_validate(e) for e in stored.data.get("entries", [])]
        queued = [SchedulerEvent.model_validate(e) for e in stored.data.get("queued", [])]
        return entries, queued


class ContextCallJournal:
    """`CallJournal`: one item per call in flight, deleted once its result is delivered."""

    def __init__(self, items: ContextItems) -> None:
        self._items = items

    async def record(self, call: PendingCall) -> None:
        await self._items.put(CALLS, call.id, call.model_dump(mode="json"))

    async def clear(self, call_id: str) -> None:
        await self._items.delete(CALLS, call_id)

    async def pending(self) -> list[PendingCall]:
        return [
            PendingCall.model_validate(item.data) for item in await self._items.query([CALLS], limit=1000)
        ]
