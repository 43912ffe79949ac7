"""How a running feed acks the log: a page after a quiet spell at once, a burst of pages at most every
`ACK_SECONDS` (its last page included), what was handled when the feed stops, and an ack the
context store did not answer later, without stopping the feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from orchestrator.event_log import ContextEvent, EventLog
from orchestrator.feeds import runner
from orchestrator.feeds.runner import run_feed
from orchestrator.mcp_clients import ServerUnavailable

pytestmark = pytest.mark.anyio

EVERY = 0.3  # ACK_SECONDS in these tests


class PagedLog:
    """An event log whose pages the test sends; records each ack with the time it was made."""

    def __init__(self, pages: MemoryObjectReceiveStream[list[ContextEvent]], failures: int = 0) -> None:
        self._pages = pages
        self.acks: list[tuple[float, int]] = []
        self.failures = failures
        self._handled: dict[str, int] = {}

    @asynccontextmanager
    async def follow(self, consumer: str, namespaces: list[str], **_: object) -> AsyncIterator[PagedLog]:
        yield self

    async def pages(self) -> AsyncIterator[list[ContextEvent]]:
        async for page in self._pages:
            yield page
        await anyio.sleep_forever()

    note_handled = EventLog.note_handled  # the runner's record of how far it handled
    handled_through = EventLog.handled_through

    async def ack(self, consumer: str, seq: int) -> None:
        if self.failures:
            self.failures -= 1
            raise ServerUnavailable("context: restarting")
        self.acks.append((anyio.current_time(), seq))


class CountingFeed:
    consumer, namespaces = "test.feed", ["raw.email"]

    def __init__(self) -> None:
        self.handled: list[int] = []

    async def handle(self, event: ContextEvent) -> None:
        self.handled.append(event.seq)

    async def flush(self) -> None:
        pass


def page(*seqs: int) -> list[ContextEvent]:
    return [ContextEvent(seq=seq, namespace="raw.email", id=str(seq), op="store", at=0.0) for seq in seqs]


async def until(condition, seconds: float = 5.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - polls what the feed task changes
            await anyio.sleep(0.01)


@pytest.fixture(autouse=True)
def short_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "ACK_SECONDS", EVERY)


async def test_a_burst_of_pages_is_acked_at_most_every_interval_and_its_last_page_too() -> None:
    send, receive = anyio.create_memory_object_stream[list[ContextEvent]](100)
    log, feed = PagedLog(receive), CountingFeed()
    async with send, receive, anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        started = anyio.current_time()
        await send.send(page(1, 2))
        await until(lambda: log.acks)  # after a quiet spell: at once
        assert log.acks[0][1] == 2 and log.acks[0][0] - started < EVERY
        for seq in range(3, 33):  # 30 pages within about one interval
            await send.send(page(seq))
            await anyio.sleep(EVERY / 30)
        await until(lambda: feed.handled[-1] == 32 and log.acks[-1][1] == 32, seconds=EVERY * 4)
        assert len(log.acks) <= 3, log.acks  # not one per page
        times = [at for at, _ in log.acks]
        assert all(later - earlier >= EVERY * 0.9 for earlier, later in zip(times, times[1:], strict=False))
        task_group.cancel_scope.cancel()


async def test_what_was_handled_is_acked_when_the_feed_stops() -> None:
    send, receive = anyio.create_memory_object_stream[list[ContextEvent]](100)
    log, feed = PagedLog(receive), CountingFeed()
    async with send, receive, anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        await send.send(page(1))
        await until(lambda: log.acks)
        await send.send(page(2, 3))  # within the interval: waits for it
        await until(lambda: feed.handled[-1] == 3)
        assert log.acks[-1][1] == 1
        task_group.cancel_scope.cancel()
    assert log.acks[-1][1] == 3


async def test_an_ack_the_store_did_not_take_is_made_later_and_the_feed_goes_on() -> None:
    send, receive = anyio.create_memory_object_stream[list[ContextEvent]](100)
    log, feed = PagedLog(receive, failures=1), CountingFeed()
    async with send, receive, anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        await send.send(page(1))
        await until(lambda: feed.handled == [1])
        await send.send(page(2))
        await until(lambda: log.acks and log.acks[-1][1] == 2, seconds=EVERY * 4)
        assert feed.handled == [1, 2]
        task_group.cancel_scope.cancel()
