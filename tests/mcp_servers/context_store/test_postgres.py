"""The PostgreSQL backend's own guarantees: positions in commit order under concurrent writers (no
consumer can skip an event that commits late), LISTEN/NOTIFY wake-ups that carry the position,
tenants kept apart, clear errors when the server cannot be reached, and the migration from SQLite. The shared behaviour is
checked by the rest of the suite, which runs against both backends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import psycopg
import pytest

from mcp_servers.context_store.errors import InvalidInput, StorageError
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.postgres import PostgresStorage
from mcp_servers.context_store.postgres.errors import DatabaseUnavailable
from mcp_servers.context_store.postgres.migrate import migrate
from mcp_servers.context_store.store import ContextStore

from .conftest import HashingEmbedder
from .test_search import WORDS

pytestmark = pytest.mark.anyio


@pytest.fixture
def pg_tenant(postgres_url: str) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")


async def wait_for_a_lock_waiter(storage: PostgresStorage) -> None:
    """Until some session waits for a lock (PostgreSQL sends no event for it: ask every 5 ms)."""
    with anyio.fail_after(10):
        while True:
            async with storage.pool.connection() as db:
                cursor = await db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                )
                if (await cursor.fetchone())[0]:
                    return
            await anyio.sleep(0.005)


async def test_a_writer_that_starts_late_gets_its_position_only_after_the_open_one_commits(
    postgres_url: str, pg_tenant: str
) -> None:
    slow = await PostgresStorage.open(postgres_url, pg_tenant)
    fast = await PostgresStorage.open(postgres_url, pg_tenant)
    holding, release, written = anyio.Event(), anyio.Event(), []

    async def slow_writer() -> None:  # a transaction that has its position and has not committed yet
        async with slow._write() as db:
            await slow._append(db, [("n", "slow", "store")], time.time())
            holding.set()
            await release.wait()

    async def fast_writer() -> None:
        written.append(await fast.store(ItemInput(namespace="n", id="fast")))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(slow_writer)
        await holding.wait()
        tasks.start_soon(fast_writer)
        await wait_for_a_lock_waiter(fast)  # the fast writer waits for the log's head
        page = await fast.read_events(0)
        assert (page.events, page.next_after) == ([], 0)  # nothing committed: nothing to skip past
        release.set()
    page = await fast.read_events(0)
    assert [(e.id, e.seq) for e in page.events] == [("slow", 1), ("fast", 2)]
    assert written[0].seq == 2
    await slow.aclose(), await fast.aclose()


async def test_a_consumer_following_concurrent_writers_sees_every_event_once_in_order(
    postgres_url: str, pg_tenant: str
) -> None:
    writers = [await PostgresStorage.open(postgres_url, pg_tenant) for _ in range(4)]
    reader = await PostgresStorage.open(postgres_url, pg_tenant)
    seen: list[int] = []
    done = anyio.Event()

    async def write(storage: PostgresStorage, number: int) -> None:
        for batch in range(20):
            items = [ItemInput(namespace="n", id=f"{number}-{batch}-{i}", data=i) for i in range(5)]
            await storage.store_many(items)

    async def follow() -> None:
        after = 0
        while True:
            finished = done.is_set()  # read once more after the writers finished
            page = await reader.read_events(after, limit=1000)
            seen.extend(event.seq for event in page.events)
            after = page.next_after
            if finished and not page.has_more:
                return
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as outer:
        outer.start_soon(follow)
        async with anyio.create_task_group() as tasks:
            for number, storage in enumerate(writers):
                tasks.start_soon(write, storage, number)
        done.set()
    assert seen == list(range(1, 4 * 20 * 5 + 1))
    for storage in [*writers, reader]:
        await storage.aclose()


async def test_a_commit_notifies_other_listeners_with_its_position(postgres_url: str, pg_tenant: str) -> None:
    writer = await PostgresStorage.open(postgres_url, pg_tenant)
    listener = await PostgresStorage.open(postgres_url, pg_tenant)
    positions: list[int] = []
    changed = anyio.Event()

    def on_change(position: int) -> None:
        positions.append(position)
        changed.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(listener.watch_changes, on_change)
        with anyio.fail_after(10):
            await changed.wait()  # listening: the first call says "look at the log"
            assert positions == [0]
            written = await writer.store_many([ItemInput(namespace="n", id=str(i)) for i in range(3)])
            while len(positions) < 2:
                changed = anyio.Event()
                await changed.wait()
        tasks.cancel_scope.cancel()
    assert positions == [0, written[-1].seq]
    await writer.aclose(), await listener.aclose()


async def test_tenants_share_a_server_but_neither_items_nor_positions(
    postgres_url: str, pg_tenant: str
) -> None:
    other_tenant = f"{pg_tenant}b"
    mine = await PostgresStorage.open(postgres_url, pg_tenant)
    theirs = await PostgresStorage.open(postgres_url, other_tenant)
    try:
        await mine.store(ItemInput(namespace="notes", id="secret", text="my secret plan"))
        assert await theirs.query() == []
        assert await theirs.search("secret", mode="lexical") == []
        assert (await theirs.read_events(0)).events == []
        assert (await theirs.store(ItemInput(namespace="notes", id="x"))).seq == 1
    finally:
        await mine.aclose(), await theirs.aclose()
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS pepper_{other_tenant} CASCADE")


async def test_an_unreachable_server_is_named_in_words(tmp_path) -> None:
    url = f"postgresql://pepper@/pepper?host={tmp_path}&connect_timeout=2"
    with pytest.raises(DatabaseUnavailable, match="is unavailable .*the call was not acknowledged"):
        await PostgresStorage.open(url)


async def test_a_nul_character_in_text_is_refused_in_words(postgres_url: str, pg_tenant: str) -> None:
    storage = await PostgresStorage.open(postgres_url, pg_tenant)
    with pytest.raises(InvalidInput, match="NUL character"):
        await storage.store(ItemInput(namespace="n", id="a", text="a\x00b"))
    assert await storage.count() == (0, 0)
    await storage.aclose()


async def test_migration_copies_items_vectors_events_and_cursors_and_verifies_the_counts(
    postgres_url: str, pg_tenant: str, db_path
) -> None:
    embedder = HashingEmbedder()
    source = ContextStore.open(db_path, embedder=embedder)
    source.store_many(
        [
            ItemInput(namespace="raw.email", id=str(i), text=f"{WORDS[i % 8]} offer", tags=["t"])
            for i in range(40)
        ]
    )
    source.embed_pending(batch=30)  # ten items stay queued
    source.delete("raw.email", "25")  # embedded whichever end of the queue goes first
    source.ack("feeds.email", 20)
    expected_events = source.read_events(0, limit=1000).events
    expected_hits = [round(hit.score, 5) for hit in source.search("apple offer", mode="semantic", limit=5)]
    source.close()

    counts = await migrate(db_path, postgres_url, pg_tenant)

    assert counts == {
        "items": 39,
        "events": 41,
        "consumers": 1,
        "pending_embeddings": 10,
        "embedding_failures": 0,
        "items_vec": 29,
    }
    target = await PostgresStorage.open(postgres_url, pg_tenant, embedder)
    assert (await target.read_events(0, limit=1000)).events == expected_events
    assert [e.seq for e in (await target.read_events(consumer="feeds.email", limit=1000)).events][0] == 21
    assert (await target.get("raw.email", "7")).tags == ["t"]
    hits = await target.search("apple offer", mode="semantic", limit=5)
    assert [round(hit.score, 5) for hit in hits] == expected_hits  # the copied vectors rank alike
    assert await target.pending_embeddings() == 10
    while await target.embed_pending():
        pass
    assert await target.pending_embeddings() == 0
    assert (await target.store(ItemInput(namespace="n", id="after"))).seq == 42
    with pytest.raises(StorageError, match="not empty"):
        await migrate(db_path, postgres_url, pg_tenant)
    await target.aclose()
