"""Following the context store's event log over a self-healing `ServerConnection`.

`EventLog.events(consumer, namespaces)` yields events after the consumer's acked cursor and then new
ones as they are written: it reads a page, and when caught up waits for a wake-up from a subscription
to the namespaces (or `idle_poll` seconds) before reading again. A wake-up only says "look again": the
log is the truth. Delivery is at-least-once; `ack(consumer, seq)` commits progress, so a restarted
consumer resumes after its last ack.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal

import anyio
from pydantic import BaseModel

from orchestrator.mcp_clients import ServerConnection

__all__ = ["ContextEvent", "EventLog"]

logger = logging.getLogger(__name__)


class ContextEvent(BaseModel):
    seq: int
    namespace: str
    id: str
    op: Literal["store", "delete", "expire"]
    at: datetime


class EventLog:
    def __init__(self, context: ServerConnection, idle_poll: float = 30.0, page_size: int = 100) -> None:
        self._context = context
        self._idle_poll = idle_poll
        self._page_size = page_size

    async def events(self, consumer: str, namespaces: Sequence[str]) -> AsyncIterator[ContextEvent]:
        """Events for `consumer` from its cursor on; never ends by itself."""
        wake = anyio.Event()

        def wake_up() -> None:
            wake.set()

        async with anyio.create_task_group() as task_group:
            for pattern in namespaces or ["*"]:
                task_group.start_soon(self._context.watch, f"context://namespace/{pattern}", wake_up)
            after: int | None = None
            try:
                while True:
                    wake = anyio.Event()
                    page = await self._read(consumer, after, namespaces)
                    if page.get("gap"):
                        logger.warning("%s missed compacted events after %s", consumer, after)
                    for raw in page.get("events", []):
                        yield ContextEvent.model_validate(raw)
                    after = page.get("next_after", after)
                    if not page.get("has_more"):
                        with anyio.move_on_after(self._idle_poll):
                            await wake.wait()
            finally:
                task_group.cancel_scope.cancel()

    async def _read(self, consumer: str, after: int | None, namespaces: Sequence[str]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "consumer": consumer,
            "namespaces": list(namespaces),
            "limit": self._page_size,
        }
        if after is not None:
            arguments["after"] = after
        return (await self._context.call_tool("read_events", arguments)).structured or {}

    async def ack(self, consumer: str, seq: int) -> None:
        await self._context.call_tool("ack", {"consumer": consumer, "seq": seq})
