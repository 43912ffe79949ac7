"""`MailIndex`: the headers of the ingested mail (`raw.email`: id, thread, sender, recipients, date,
subject, labels), read once and then kept current from the context store's event log, so "what's
new since …" does not re-read the whole mailbox on every question. A gap in the log (events
compacted away) reloads it. `follow` keeps it current in the background, so the catch-up a question
pays for is one read of the log with nothing new in it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from orchestrator.conversation.services import Services
from orchestrator.event_log import EventLog

__all__ = ["MailIndex"]

NAMESPACE = "raw.email"
HEAD = ("id", "thread_id", "from", "to", "cc", "date", "subject", "labels", "account")
PAGE = 500
RELOAD_AFTER = 40


def _head(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict) or not data.get("date") or not data.get("id"):
        return None
    return {key: data.get(key) for key in HEAD}


class MailIndex:
    def __init__(self) -> None:
        self._mail: dict[str, dict[str, Any]] = {}
        self._after: int | None = None
        self._lock = anyio.Lock()  # the background follower and a question never catch up at once

    async def messages(self, services: Services) -> list[dict[str, Any]]:
        """Every ingested message's headers, newest first."""
        async with self._lock:
            if self._after is None or not await self._catch_up(services):
                await self._load(services)
            return sorted(self._mail.values(), key=lambda m: m["date"], reverse=True)

    async def follow(
        self,
        services: Services,
        log: EventLog,
        changed: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None,
        namespaces: Sequence[str] = (NAMESPACE,),
    ) -> None:
        """Catch up whenever something in `namespaces` is written, then hand the mail to `changed`,
        until cancelled. While mail pours in (big pages, as in the first sync) nothing is read: the
        index is reloaded once, with the first small page after them, here rather than in the next
        question."""
        messages = await self.messages(services)
        if changed is not None:
            await changed(messages)
        async with log.follow(None, list(namespaces), self._after) as stream:
            async for page in stream.pages():
                if len(page) > RELOAD_AFTER:
                    continue
                messages = await self.messages(services)
                if changed is not None:
                    await changed(messages)

    async def _load(self, services: Services) -> None:
        # The cursor is taken before the read: what is written in between is read twice, harmlessly.
        cursor = await services.call(
            "context", "read_events", {"after": 0, "namespaces": ["pepper.none"], "limit": 1}
        )
        items = (await services.call("context", "query", {"namespaces": [NAMESPACE], "limit": 1000})).get(
            "items", []
        )
        self._mail = {head["id"]: head for item in items if (head := _head(item.get("data"))) is not None}
        self._after = int(cursor.get("next_after", 0))

    async def _catch_up(self, services: Services) -> bool:
        """Apply the log's `raw.email` events since the last look; False when a gap needs a reload."""
        while True:
            arguments = {"after": self._after, "namespaces": [NAMESPACE], "limit": PAGE}
            page = await services.call("context", "read_events", arguments)
            if page.get("gap") or len(page.get("events", [])) > RELOAD_AFTER:
                return False  # a gap, or so many changes that one read beats reading each
            for event in page.get("events", []):
                await self._apply(services, event)
            self._after = int(page.get("next_after", self._after))
            if not page.get("has_more"):
                return True

    async def _apply(self, services: Services, event: dict[str, Any]) -> None:
        if event.get("op") != "store":
            self._mail.pop(event["id"], None)
            return
        item = await services.items.get(NAMESPACE, event["id"])
        head = _head(item.data) if item is not None else None
        if head is None:
            self._mail.pop(event["id"], None)
        else:
            self._mail[event["id"]] = head
