"""EventLog follows the real context store's log over a stdio session: cursors, acks, wake-ups."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent, EventLog, EventStream
from orchestrator.mcp_clients import ServerUnavailable

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


async def take(stream: EventStream, count: int) -> list[ContextEvent]:
    taken: list[ContextEvent] = []
    with anyio.fail_after(15):
        async for event in stream:
            taken.append(event)
            if len(taken) == count:
                break
    return taken


async def test_event_log_resumes_after_the_acked_cursor(connections) -> None:
    items = ContextItems(connections["context"])
    for item_id in "abc":
        await items.put("signals.email", item_id, 1)
    log = EventLog(connections["context"])
    async with log.follow("scheduler", ["signals.*"]) as stream:
        first = await take(stream, 2)
    assert [event.id for event in first] == ["a", "b"]
    await log.ack("scheduler", first[-1].seq)
    async with EventLog(connections["context"]).follow("scheduler", ["signals.*"]) as stream:
        again = await take(stream, 1)
    assert [(event.id, event.op) for event in again] == [("c", "store")]


async def test_event_log_wakes_on_a_matching_write_when_caught_up(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put("signals.email", "old", 1)
    log = EventLog(connections["context"], idle_poll=60)  # beyond the test's patience: only a wake-up helps
    received: list[ContextEvent] = []
    caught_up = anyio.Event()
    async with log.follow("feeds", ["signals.*"]) as stream:

        async def consume() -> None:
            async for event in stream:
                received.append(event)
                caught_up.set()
                if len(received) == 2:
                    return

        with anyio.fail_after(15):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(consume)
                await caught_up.wait()
                await items.put("raw.email", "ignored", 1)
                await items.put("signals.calendar", "new", 1)
    assert [(event.namespace, event.id) for event in received] == [
        ("signals.email", "old"),
        ("signals.calendar", "new"),
    ]


async def test_event_log_follows_from_a_given_seq_without_a_consumer(connections) -> None:
    items = ContextItems(connections["context"])
    for item_id in "xyz":
        await items.put("chat.messages", item_id, {"role": "user"})
    log = EventLog(connections["context"])
    assert await log.last_seq() == 3
    async with log.follow(None, ["chat.messages"], after=1) as stream:
        rest = await take(stream, 2)
    assert [event.id for event in rest] == ["y", "z"]


class _Reads:
    """The context connection, noting each `read_events` (its `after`) and failing the ones told to."""

    def __init__(self, connection, fail_after_seq: int | None = None) -> None:
        self._connection = connection
        self.fail_after_seq = fail_after_seq
        self.reads: list[int | None] = []

    async def call_tool(self, name, arguments, deadline=None):
        if name == "read_events":
            self.reads.append(arguments.get("after"))
            if self.fail_after_seq is not None and arguments.get("after") == self.fail_after_seq:
                raise ServerUnavailable("the context store went away")
        return await self._connection.call_tool(name, arguments, deadline)

    async def read_resource(self, uri):
        return await self._connection.read_resource(uri)

    async def watch(self, uri, wake):
        await self._connection.watch(uri, wake)


async def test_a_backlog_s_next_page_is_read_while_the_consumer_handles_one(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put_many([{"namespace": "raw.email", "id": f"m{n:02}", "data": n} for n in range(25)])
    reads = _Reads(connections["context"])
    log = EventLog(reads, page_size=10)
    seen: list[str] = []
    read_while_handling: list[list[int | None]] = []
    async with log.follow("feeds.email", ["raw.email"], with_items=True, read_ahead=True) as stream:
        with anyio.fail_after(15):
            async for page in stream.pages():
                await anyio.sleep(0.3)  # handling the page: the next one is read meanwhile
                read_while_handling.append(list(reads.reads))
                seen += [event.id for event in page]
                assert all(event.item is not None and event.item.data == int(event.id[1:]) for event in page)
                if len(seen) == 25:
                    break
    assert seen == [f"m{n:02}" for n in range(25)]  # each event once, in order
    first, second = read_while_handling[0], read_while_handling[1]
    assert first == [None, 10] and second == [None, 10, 20]  # the next page, before this one was handled
    assert len(read_while_handling) == 3 and read_while_handling[2] == [None, 10, 20]  # no backlog left


@pytest.mark.parametrize("read_ahead", [False, True])
async def test_a_failed_read_ahead_reaches_the_reader_as_its_own_read_would(connections, read_ahead) -> None:
    items = ContextItems(connections["context"])
    await items.put_many([{"namespace": "raw.email", "id": f"m{n:02}", "data": n} for n in range(15)])
    log = EventLog(_Reads(connections["context"], fail_after_seq=10), page_size=10)
    handled: list[str] = []
    failures: list[Exception] = []
    with anyio.fail_after(15):
        try:
            async with log.follow("feeds.email", ["raw.email"], read_ahead=read_ahead) as stream:
                async for page in stream.pages():
                    handled += [event.id for event in page]
        except* ServerUnavailable as group:  # the follow's task group carries it, as for any read
            failures += group.exceptions
    assert [str(failure) for failure in failures] == ["the context store went away"]
    assert handled == [f"m{n:02}" for n in range(10)]  # the first page was handed over before the failure
