"""`MailIndex`: the headers of the ingested mail (`raw.email`: id, thread, sender, recipients, date,
subject, labels), read once and then kept current from the context store's event log, so "what's new
since …" does not re-read the whole mailbox on every question. A catch-up reads a page of the log
with the mail it names in one call (a first sync's thousands of writes are read once, never the
whole mailbox again); only a gap in the log (events compacted away) reloads it. The newest `KEPT`
messages (by date) are held. A load asks the mail servers which messages are the newest (the store
lists items by when they were written, and a first sync writes years of old mail after the recent:
the newest written are old mail) and reads those from the store, beside the newest written (mail
that came after the sync; all there is when no mail server answers). `follow` keeps it current in
the background (while mail or its triage signals pour in, as in a first sync, at most once every
`FOLLOW_SECONDS`), so the catch-up a question pays for is one read of the log with little new in it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import anyio

from orchestrator.accounts.merge import accounts_of
from orchestrator.accounts.names import account_of, scoped_id
from orchestrator.conversation.services import ActionError, Services
from orchestrator.event_log import EventLog

__all__ = ["MailIndex"]

logger = logging.getLogger(__name__)

NAMESPACE = "raw.email"
HEAD = ("id", "thread_id", "from", "to", "cc", "date", "subject", "labels", "account")
PAGE = 500
SEARCH_PAGE = 500  # the gmail server's largest page of search_messages
GET_MANY = 1000  # the context store's most ids per get_many
KEPT = 1000  # the newest messages held (a reload reads as many)
FOLLOW_SECONDS = 5.0  # the background catch-up's pace while mail pours in
POURING = 40  # messages in one catch-up that mean mail pours in


def _head(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict) or not data.get("date") or not data.get("id"):
        return None
    return {key: data.get(key) for key in HEAD}


def _newest(heads: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest `KEPT` of `heads` (by date), by id."""
    return {head["id"]: head for head in sorted(heads, key=lambda m: m["date"], reverse=True)[:KEPT]}


class MailIndex:
    def __init__(self) -> None:
        self._mail: dict[str, dict[str, Any]] = {}
        self._after: int | None = None
        self.applied = 0  # events applied by the last catch-up
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
        until cancelled; while mail pours in, at most once every `FOLLOW_SECONDS` (what is written
        meanwhile waits in the log for the next catch-up, which reads it all in a few calls)."""
        messages = await self.messages(services)
        if changed is not None:
            await changed(messages)
        async with log.follow(None, list(namespaces), self._after) as stream:
            async for page in stream.pages():
                started = anyio.current_time()
                messages = await self.messages(services)
                if changed is not None:
                    await changed(messages)
                stream.after = max(stream.after or 0, self._after or 0)  # read already: wake-ups only
                if self.applied >= POURING or len(page) >= POURING:  # mail, or its triage, pours in
                    await anyio.sleep(max(started + FOLLOW_SECONDS - anyio.current_time(), 0))

    async def _load(self, services: Services) -> None:
        # The cursor is taken before the read: what is written in between is read twice, harmlessly.
        cursor = await services.call(
            "context", "read_events", {"after": 0, "namespaces": ["pepper.none"], "limit": 1}
        )
        written = (await services.call("context", "query", {"namespaces": [NAMESPACE], "limit": KEPT})).get(
            "items", []
        )
        found = {str(item.get("id")): item for item in written}
        newest = [key for key in await _newest_ids(services) if key not in found]
        if newest:
            found.update({str(item.get("id")): item for item in await _stored(services, newest)})
        heads = [head for item in found.values() if (head := _head(item.get("data"))) is not None]
        self._mail = _newest(heads)
        self._after = int(cursor.get("next_after", 0))

    async def _catch_up(self, services: Services) -> bool:
        """Apply the log's `raw.email` events since the last look; False when a gap needs a reload."""
        self.applied = 0
        while True:
            arguments = {"after": self._after, "namespaces": [NAMESPACE], "limit": PAGE, "with_items": True,
                         "item_fields": list(HEAD)}  # fmt: skip
            page = await services.call("context", "read_events", arguments)
            if page.get("gap"):
                return False
            self._apply(page.get("events", []), page.get("items", []))
            self.applied += len(page.get("events", []))
            self._after = int(page.get("next_after", self._after))
            if not page.get("has_more"):
                return True

    def _apply(self, events: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
        """Apply a page of events, with the mail still stored read with it."""
        found = {item["id"]: item for item in items}
        for id in {event["id"]: None for event in events}:
            item = found.get(id)
            head = _head(item.get("data")) if item is not None else None
            if head is None:
                self._mail.pop(id, None)
            else:
                self._mail[id] = head
        if len(self._mail) > KEPT:
            self._mail = _newest(self._mail.values())


async def _newest_ids(services: Services) -> list[str]:
    """The stored ids of the newest `KEPT` messages of every mail account, as their servers list
    them (newest first); none from a server that does not answer (the store's newest written stand)."""
    ids: list[str] = []
    for name in accounts_of("gmail", services.connections):
        arguments: dict[str, Any] = {"query": "", "limit": min(SEARCH_PAGE, KEPT)}
        listed: list[str] = []
        try:
            while len(listed) < KEPT:
                page = await services.call(name, "search_messages", arguments)
                listed += [
                    str(m["id"]) for m in page.get("messages", []) if isinstance(m, dict) and m.get("id")
                ]
                if not page.get("next_cursor"):
                    break
                arguments = {**arguments, "cursor": page["next_cursor"]}
        except ActionError as exc:
            logger.warning("the mail index could not list the newest mail of %s (%s)", name, exc)
        ids += [scoped_id(account_of(name), key) for key in listed[:KEPT]]
    return ids


async def _stored(services: Services, ids: list[str]) -> list[dict[str, Any]]:
    """The stored mail with these ids (those not stored yet are left out)."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(ids), GET_MANY):
        arguments = {"namespace": NAMESPACE, "ids": ids[start : start + GET_MANY]}
        items += (await services.call("context", "get_many", arguments)).get("items", [])
    return items
