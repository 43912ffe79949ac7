"""A small client for the context store's event log: subscribe to namespace patterns, iterate events.

`ContextClient` wraps a connected `fastmcp.Client` to the context store. `subscribe("signals.*")`
opens a `subscriptions/listen` stream for `context://namespace/signals.*`; `events(consumer,
namespaces)` then yields typed events from the consumer's acked cursor onwards, and, once caught up,
waits for a notification (or, as a safety net, `idle_poll` seconds) before reading the log again.
A notification is only a wake-up: the log is the truth, so nothing is lost if one is missed.
Delivery is at-least-once: call `ack(consumer, seq)` after processing an event; a restarted consumer
resumes after its last ack.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal

import anyio
from fastmcp import Client
from mcp.client.subscriptions import listen
from pydantic import BaseModel

__all__ = ["ContextClient", "ContextEvent"]

logger = logging.getLogger(__name__)


class ContextEvent(BaseModel):
    """One entry of the context store's event log."""

    seq: int
    namespace: str
    id: str
    op: Literal["store", "delete", "expire"]
    at: datetime


class _Wakeups:
    """Counts notifications; a waiter waits for the count to move past what it last saw."""

    def __init__(self) -> None:
        self.generation = 0
        self._event = anyio.Event()

    def fire(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = anyio.Event()

    async def wait_past(self, generation: int) -> None:
        while self.generation == generation:
            await self._event.wait()


class ContextClient:
    """The context store's event log over a connected FastMCP client (see the module docstring)."""

    def __init__(self, client: Client, idle_poll: float = 30.0, page_size: int = 100) -> None:
        self._client = client
        self._idle_poll = idle_poll
        self._page_size = page_size
        self._wakeups = _Wakeups()

    @asynccontextmanager
    async def subscribe(self, *patterns: str) -> AsyncIterator[ContextClient]:
        """Be woken on writes to namespaces matching `patterns` while the block runs."""
        uris = [f"context://namespace/{pattern}" for pattern in patterns]
        async with anyio.create_task_group() as tasks:
            await tasks.start(self._listen, uris)
            try:
                yield self
            finally:
                tasks.cancel_scope.cancel()

    async def _listen(self, uris: list[str], *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        async with listen(self._client.session, resource_subscriptions=uris) as updates:
            task_status.started()
            async for _ in updates:
                self._wakeups.fire()

    async def events(self, consumer: str, namespaces: Sequence[str] = ()) -> AsyncIterator[ContextEvent]:
        """Events after `consumer`'s acked cursor, then new ones as they come; never ends by itself."""
        after: int | None = None  # None: the server starts from the consumer's acked cursor
        while True:
            seen = self._wakeups.generation
            page = await self._read(consumer, after, namespaces)
            if page["gap"]:
                logger.warning("consumer %s missed compacted events after %s: resynchronise", consumer, after)
            for raw in page["events"]:
                yield ContextEvent.model_validate(raw)
            after = page["next_after"]
            if not page["has_more"]:
                with anyio.move_on_after(self._idle_poll):
                    await self._wakeups.wait_past(seen)

    async def _read(self, consumer: str, after: int | None, namespaces: Sequence[str]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "consumer": consumer,
            "namespaces": list(namespaces),
            "limit": self._page_size,
        }
        if after is not None:
            arguments["after"] = after
        result = await self._client.call_tool("read_events", arguments)
        return dict(result.structured_content or {})

    async def ack(self, consumer: str, seq: int) -> int:
        """Commit `consumer`'s cursor at `seq`; returns the cursor the store now holds."""
        result = await self._client.call_tool("ack", {"consumer": consumer, "seq": seq})
        return int((result.structured_content or {})["seq"])
