"""What Pepper is doing, for the UI's activity view: scheduler steps, tool calls, worker runs and the
tokens they cost. Records go to the context store (`activity.log`, kept for a day), so the UI follows
them live through the event log and finds them again after a reload."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from orchestrator.context_items import ContextItems, store_item

__all__ = ["Activity"]

NAMESPACE = "activity.log"
KEEP_SECONDS = 24 * 3600


class Activity:
    def __init__(self, items: ContextItems) -> None:
        self._items = items
        self.steps = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def record(self, kind: str, text: str, **details: Any) -> None:
        item = self.entry(kind, text, **details)
        await self._items.put(
            NAMESPACE, item["id"], item["data"], text, tags=[kind], ttl_seconds=KEEP_SECONDS
        )

    def entry(self, kind: str, text: str, **details: Any) -> dict[str, Any]:
        """A record as a `store_many` item, for a caller that stores it with its own writes."""
        entry_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        data = {"kind": kind, "text": text, "at": datetime.now(UTC).isoformat(), **details}
        return store_item(NAMESPACE, entry_id, data, text, tags=[kind], ttl_seconds=KEEP_SECONDS)
