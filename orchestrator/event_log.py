"""Following the context store's event log over a self-healing `ServerConnection`.

`async with log.follow(consumer, namespaces) as stream: async for event in stream` yields events after
the consumer's acked cursor and then new ones as they are written (`with_items`: each store event
carries the item it wrote, read with its page in the same call): it reads a page, and when caught up
waits for a wake-up from a subscription to the namespaces (or `idle_poll` seconds) before reading
again; a follower woken within `READ_GAP` of its last read waits out the rest of it, so a burst of
writes (a first sync) is read in pages, not a read per write, while a write after a quiet spell
is read at once; with `read_ahead`, while a backlog lasts the next page is read as the consumer
handles the last (the store's work and the consumer's overlap). (A context manager, not a generator,
holds the subscriptions' task group: a generator must not suspend inside one.) A wake-up only says
"look again": the log is the truth. Delivery is at-least-once; `ack(consumer, seq)` commits
progress, so a restarted consumer resumes after its last ack.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel

from orchestrator.context_items import StoredItem
from orchestrator.mcp_clients import ToolCaller

__all__ = ["ContextEvent", "EventLog", "EventStream"]

logger = logging.getLogger(__name__)
READ_GAP = 0.2  # seconds between two reads of a follower woken again and again


class ContextEvent(BaseModel):
    seq: int
    namespace: str
    id: str
    op: Literal["store", "delete", "expire"]
    at: datetime
    item: StoredItem | None = None  # a store event's item as read with the page (`with_items`)


class Wakeups:
    """Counts wake-ups; a reader waits for the count to move past what it saw before reading."""

    def __init__(self) -> None:
        self.generation = 0
        self._event = anyio.Event()

    def fire(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = anyio.Event()

    async def wait_past(self, generation: int, patience: float) -> None:
        with anyio.move_on_after(patience):
            while self.generation == generation:
                await self._event.wait()


class EventStream:
    """Iterates a log: pages after the cursor, then waits for a wake-up (or `idle_poll`)."""

    def __init__(
        self,
        log: EventLog,
        consumer: str | None,
        namespaces: Sequence[str],
        after: int | None,
        wakeups: Wakeups,
        with_items: bool = False,
        ahead: TaskGroup | None = None,
    ) -> None:
        self._log, self._consumer, self._namespaces = log, consumer, list(namespaces)
        self.after = after
        self._wakeups = wakeups
        self._with_items = with_items
        self._ahead = ahead  # where the next page is read while the consumer handles this one

    async def __aiter__(self) -> AsyncIterator[ContextEvent]:
        async for page in self.pages():
            for event in page:
                yield event

    async def pages(self) -> AsyncIterator[list[ContextEvent]]:
        """The events a page at a time (never an empty page), for consumers that ack per page."""
        ahead: _ReadAhead | None = None
        while True:
            if ahead is not None:  # read while the last page was handled
                seen, last_read, page = ahead.seen, ahead.started, await ahead.page()
                ahead = None
            else:
                seen, last_read, page = self._wakeups.generation, anyio.current_time(), None
            if page is None:
                page = await self._read(self.after)
            if page.get("gap"):
                logger.warning("%s missed compacted events after %s", self._consumer, self.after)
            events = _events(page)
            self.after = page.get("next_after", self.after)
            if page.get("has_more") and self._ahead is not None:
                ahead = _ReadAhead(self._wakeups.generation, partial(self._read, self.after))
                self._ahead.start_soon(ahead.run)
            if events:
                yield events
            if not page.get("has_more"):
                await self._wakeups.wait_past(seen, self._log.idle_poll)
                if (rest := last_read + READ_GAP - anyio.current_time()) > 0:
                    await anyio.sleep(rest)  # woken again at once: let a burst's writes gather

    async def _read(self, after: int | None) -> dict[str, Any]:
        return await self._log.read(self._consumer, after, self._namespaces, with_items=self._with_items)


class _ReadAhead:
    """The next page of a backlog, read in the follow's task group; its failure is raised to the
    reader when it asks for the page, as a read of its own would have."""

    def __init__(self, seen: int, read: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self.seen, self.started = seen, anyio.current_time()
        self._read = read
        self._done = anyio.Event()
        self._page: dict[str, Any] | None = None
        self._error: Exception | None = None

    async def run(self) -> None:
        try:
            self._page = await self._read()
        except Exception as exc:  # the reader's to handle, when it asks
            self._error = exc
        finally:
            self._done.set()

    async def page(self) -> dict[str, Any] | None:
        """The page (None: the read was cancelled; read it again)."""
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._page


class EventLog:
    def __init__(self, context: ToolCaller, idle_poll: float = 30.0, page_size: int = 100) -> None:
        self._context = context
        self.idle_poll = idle_poll
        self._page_size = page_size
        self._handled: dict[str, int] = {}

    def note_handled(self, consumer: str, seq: int) -> None:
        """A consumer in this process handled the log up to `seq` (its ack may follow later)."""
        self._handled[consumer] = max(self._handled.get(consumer, 0), seq)

    def handled_through(self, consumer: str) -> int | None:
        """How far a consumer in this process has handled the log (None: not known here)."""
        return self._handled.get(consumer)

    @asynccontextmanager
    async def follow(
        self,
        consumer: str | None,
        namespaces: Sequence[str],
        after: int | None = None,
        *,
        with_items: bool = False,
        read_ahead: bool = False,
    ) -> AsyncIterator[EventStream]:
        """A stream of events after `after`, else after `consumer`'s acked cursor (else from the
        start), then new ones as they come, woken by subscriptions to the namespaces; `with_items`:
        a store event carries its item (None when it was deleted before the page was read);
        `read_ahead`: while a backlog lasts, the next page is read as the consumer handles one."""
        wakeups = Wakeups()
        async with anyio.create_task_group() as task_group:
            for pattern in namespaces or ["*"]:
                task_group.start_soon(self._context.watch, f"context://namespace/{pattern}", wakeups.fire)
            try:
                ahead = task_group if read_ahead else None
                yield EventStream(self, consumer, namespaces, after, wakeups, with_items, ahead)
            finally:
                task_group.cancel_scope.cancel()

    async def last_seq(self) -> int:
        """The seq of the newest event in the log (0 when it is empty)."""
        page = await self.read(None, 0, ["pepper.no-such-namespace"], limit=1)
        return int(page.get("next_after", 0))

    async def read(
        self,
        consumer: str | None,
        after: int | None,
        namespaces: Sequence[str],
        limit: int | None = None,
        *,
        with_items: bool = False,
    ) -> dict[str, Any]:
        """One page of `read_events` (`with_items`: with the items its store events wrote)."""
        arguments: dict[str, Any] = {"namespaces": list(namespaces), "limit": limit or self._page_size}
        if with_items:
            arguments["with_items"] = True
        if consumer is not None:
            arguments["consumer"] = consumer
        if after is not None:
            arguments["after"] = after
        return (await self._context.call_tool("read_events", arguments)).structured or {}

    async def ack(self, consumer: str, seq: int) -> None:
        await self._context.call_tool("ack", {"consumer": consumer, "seq": seq})


def _events(page: dict[str, Any]) -> list[ContextEvent]:
    """The page's events, each store event with its item when the page brought items."""
    items = {(raw["namespace"], raw["id"]): raw for raw in page.get("items", [])}
    events = []
    for raw in page.get("events", []):
        event = ContextEvent.model_validate(raw)
        if event.op == "store" and (item := items.get((event.namespace, event.id))) is not None:
            event.item = StoredItem.model_validate(item)
        events.append(event)
    return events
