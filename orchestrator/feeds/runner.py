"""Running a feed: follow the event log as a named consumer, handle each event (a store event comes
with its item, read with its page in one call), ack after its output is stored. An event whose item is malformed is logged and skipped (one bad message never stops the
feed); when a server is unreachable the feed waits and retries the same event, so nothing is lost.

The ack of a page after a quiet spell goes at once; while pages pour in (a first sync), the cursor is
acked at most every `ACK_SECONDS` (an ack per page was a tenth of a first sync's MCP calls), and once
more when the feed stops. A crash replays at most those seconds of pages, which the feeds' stable ids
make harmless."""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import anyio
from pydantic import ValidationError

from orchestrator.event_log import ContextEvent, EventLog
from orchestrator.mcp_clients import ServerUnavailable, ToolCallTimeout
from orchestrator.scheduler.user_lane import UserLane
from orchestrator.supervision.paced import Paced

__all__ = ["ACK_SECONDS", "Feed", "run_feed"]

logger = logging.getLogger(__name__)
ACK_SECONDS = 5.0
LAST_ACK_SECONDS = 5.0  # for the ack of a stopping feed


class Feed(Protocol):
    consumer: str
    namespaces: list[str]

    async def handle(self, event: ContextEvent) -> None: ...

    async def flush(self) -> None:
        """Store whatever `handle` held back for the page; called before the page is acked."""


@runtime_checkable
class UrgentFeed(Protocol):
    async def handle_urgent(self) -> None:
        """Handle what was handed over to go ahead of the log (new mail during a backfill)."""

    def urgent_arrival(self) -> anyio.Event | None:
        """Set when something is handed over: the feed handles it even while yielding to the user."""


@runtime_checkable
class BackgroundFeed(Protocol):
    async def beside(self) -> None:
        """Work of the feed's own that runs beside its pages for as long as they are handled."""


async def run_feed(
    feed: Feed, log: EventLog, retry_after: float = 2.0, *, lane: UserLane | None = None
) -> None:
    """Handle `feed`'s events forever, acking each page once all its events are handled (or skipped
    as malformed); a crash mid-page replays that page, which the feeds' stable ids make harmless.
    With a `lane`, each event waits while the user's message is being answered (new mail an
    `UrgentFeed` was handed goes meanwhile). An `UrgentFeed` handles what goes ahead of the log
    as soon as it is handed over, beside the page (whose reads and writes can take seconds on a
    busy machine), not after it. While a backlog lasts (a first sync) the log's next page is read
    as this one is handled: the store's work and the feed's overlap."""
    acks = _Acks(log, feed.consumer)
    try:
        following = log.follow(feed.consumer, feed.namespaces, with_items=True, read_ahead=True)
        async with following as stream, anyio.create_task_group() as beside:
            beside.start_soon(acks.pace.run)
            if isinstance(feed, UrgentFeed):
                beside.start_soon(_handle_arrivals, feed, retry_after)
            if isinstance(feed, BackgroundFeed):
                beside.start_soon(feed.beside)
            async for page in stream.pages():
                for event in page:
                    if lane is not None:
                        await _yield_to_user(feed, lane)
                    await _handle(feed, event, retry_after)
                    # Judging a page is CPU work on the event loop (a page of a first sync's mail
                    # took ~0.5 s): a turn between its events lets a user's message in at once.
                    await anyio.lowlevel.checkpoint()
                await feed.flush()
                log.note_handled(feed.consumer, page[-1].seq)
                acks.pace.ask()
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(LAST_ACK_SECONDS):
            await acks.ack()


class _Acks:
    """Acks what the feed handled (as the log notes it), at once after a quiet spell and at most
    every ACK_SECONDS."""

    def __init__(self, log: EventLog, consumer: str) -> None:
        self._log, self._consumer = log, consumer
        self._acked = 0
        self.pace = Paced(self.ack, ACK_SECONDS)

    async def ack(self) -> None:
        """Ack what was handled; a server that does not answer is asked again with the next ack."""
        seq = self._log.handled_through(self._consumer) or 0
        if seq <= self._acked:
            return
        try:
            await self._log.ack(self._consumer, seq)
        except (ServerUnavailable, ToolCallTimeout) as exc:
            logger.info("%s could not ack %s yet: %s", self._consumer, seq, exc)
            self.pace.ask()
            return
        self._acked = max(self._acked, seq)


async def _handle_arrivals(feed: UrgentFeed, retry_after: float) -> None:
    """Handle what is handed over to go ahead of the log, as it arrives; while a server is
    unreachable it waits and tries again (the feed keeps what it could not handle)."""
    while (arrival := feed.urgent_arrival()) is not None:
        await arrival.wait()
        try:
            await feed.handle_urgent()
        except (ServerUnavailable, ToolCallTimeout) as exc:
            logger.warning("new mail waits for its servers: %s", exc)
            await anyio.sleep(retry_after)


async def _yield_to_user(feed: Feed, lane: UserLane) -> None:
    """Wait while the user's message is answered; what goes ahead of the log goes meanwhile."""
    while True:
        arrival = feed.urgent_arrival() if isinstance(feed, UrgentFeed) else None
        await lane.yield_to_user(arrival)
        if arrival is None or not arrival.is_set() or not lane.active:
            return
        await feed.handle_urgent()


async def _handle(feed: Feed, event: ContextEvent, retry_after: float) -> None:
    while True:
        try:
            await feed.handle(event)
            return
        except (ValidationError, ValueError) as exc:
            logger.warning("%s skipped %s/%s: %s", feed.consumer, event.namespace, event.id, exc)
            return
        except (ServerUnavailable, ToolCallTimeout) as exc:
            logger.warning("%s waits for its servers: %s", feed.consumer, exc)
            await anyio.sleep(retry_after)
