"""Running a feed: follow the event log as a named consumer, handle each event, ack after its output
is stored. An event whose item is malformed is logged and skipped (one bad message never stops the
feed); when a server is unreachable the feed waits and retries the same event, so nothing is lost."""

from __future__ import annotations

import logging
from typing import Protocol

import anyio
from pydantic import ValidationError

from orchestrator.event_log import ContextEvent, EventLog
from orchestrator.mcp_clients import ServerUnavailable, ToolCallTimeout

__all__ = ["Feed", "run_feed"]

logger = logging.getLogger(__name__)


class Feed(Protocol):
    consumer: str
    namespaces: list[str]

    async def handle(self, event: ContextEvent) -> None: ...


async def run_feed(feed: Feed, log: EventLog, retry_after: float = 2.0) -> None:
    """Handle `feed`'s events forever, acking each once handled (or once skipped as malformed)."""
    async with log.follow(feed.consumer, feed.namespaces) as events:
        async for event in events:
            while True:
                try:
                    await feed.handle(event)
                    break
                except (ValidationError, ValueError) as exc:
                    logger.warning("%s skipped %s/%s: %s", feed.consumer, event.namespace, event.id, exc)
                    break
                except (ServerUnavailable, ToolCallTimeout) as exc:
                    logger.warning("%s waits for its servers: %s", feed.consumer, exc)
                    await anyio.sleep(retry_after)
            await log.ack(feed.consumer, event.seq)
