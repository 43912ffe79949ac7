"""The embedding queue on a real SQLite file: items without text or deleted are dropped, one bad item
fails alone and is given up after a few tries, a broken embedder leaves the queue as it was, and the
worker's backoff holds against writes and searches."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from mcp_servers.context_store import embedding_queue
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.services import EmbeddingWorker
from mcp_servers.context_store.sqlite import connect
from mcp_servers.context_store.sqlite_storage import SqliteStorage
from mcp_servers.context_store.store import ContextStore

from .conftest import HashingEmbedder

LATER = 10**7  # seconds: every postponed retry is due by then


class PickyEmbedder(HashingEmbedder):
    """Fails a whole batch when any text is not a string or holds `poison` (as `_clip(None)` does)."""

    def __init__(self, poison: str = "poison", broken: bool = False) -> None:
        super().__init__()
        self.poison = poison
        self.broken = broken
        self.called = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.called.set()
        if self.broken:
            raise ConnectionError("the embeddings endpoint is down")
        for text in texts:
            if not isinstance(text, str) or self.poison in text:
                raise ValueError(f"cannot embed {text!r}")
        return super().embed_documents(texts)


def vectors(store: ContextStore) -> int:
    return store._db.execute("SELECT count(*) FROM items_vec").fetchone()[0]


def drain(store: ContextStore, now: float | None = None) -> None:
    while store.embed_pending(now=now):
        pass


def test_an_item_whose_text_is_removed_while_it_waits_is_dropped_and_the_rest_are_embedded(
    db_path: Path,
) -> None:
    store = ContextStore.open(db_path, embedder=PickyEmbedder())
    store.store_many([ItemInput(namespace="n", id=str(i), text=f"item {i}") for i in range(200)])
    store.store(ItemInput(namespace="n", id="5", text=None))
    drain(store)
    assert (vectors(store), store.pending_embeddings(), store.embedding_failures()) == (199, 0, [])
    store.close()


def test_an_item_deleted_while_it_waits_is_dropped(db_path: Path) -> None:
    store = ContextStore.open(db_path, embedder=PickyEmbedder())
    store.store_many([ItemInput(namespace="n", id=str(i), text=f"item {i}") for i in range(3)])
    store.delete("n", "1")
    assert store.pending_embeddings() == 2
    drain(store)
    assert vectors(store) == 2
    store.close()


def test_an_item_deleted_or_emptied_during_its_embedding_gets_no_vector(db_path: Path) -> None:
    embedder = PickyEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    store.store_many([ItemInput(namespace="n", id=str(i), text=f"item {i}") for i in range(4)])
    original = embedder.embed_documents

    def meanwhile(texts: Sequence[str]) -> list[list[float]]:
        store.delete("n", "1")  # the store's lock is free while the embedder runs
        store.store(ItemInput(namespace="n", id="2", text=None))
        return original(texts)

    embedder.embed_documents = meanwhile  # type: ignore[method-assign]
    assert store.embed_pending() == 4
    assert (vectors(store), store.pending_embeddings(), store.embedding_failures()) == (2, 0, [])
    store.close()


def test_one_bad_item_fails_alone_then_is_given_up_with_its_reason(db_path: Path) -> None:
    store = ContextStore.open(db_path, embedder=PickyEmbedder())
    items = [ItemInput(namespace="n", id=str(i), text=f"item {i}") for i in range(10)]
    store.store_many([*items, ItemInput(namespace="n", id="bad", text="a poison pill")])
    drain(store)
    assert (vectors(store), store.pending_embeddings()) == (10, 1)  # the bad one waits, postponed
    for attempt in range(1, embedding_queue.MAX_ATTEMPTS):
        drain(store, now=time.time() + LATER * attempt)
    assert store.pending_embeddings() == 0
    [(namespace, item_id, reason)] = store.embedding_failures()
    assert (namespace, item_id) == ("n", "bad")
    assert "ValueError: cannot embed 'a poison pill'" in reason
    store.store(ItemInput(namespace="n", id="bad", text="now harmless"))  # new text: queued afresh
    assert (store.pending_embeddings(), store.embedding_failures()) == (1, [])
    drain(store)
    assert vectors(store) == 11
    store.close()


def test_a_broken_embedder_leaves_the_queue_untouched(db_path: Path) -> None:
    store = ContextStore.open(db_path, embedder=PickyEmbedder(broken=True))
    store.store_many([ItemInput(namespace="n", id=str(i), text=f"item {i}") for i in range(3)])
    with pytest.raises(ConnectionError, match="endpoint is down"):
        store.embed_pending()
    attempts = store._db.execute("SELECT sum(attempts), max(not_before) FROM pending_embeddings").fetchone()
    assert (store.pending_embeddings(), tuple(attempts), store.embedding_failures()) == (3, (0, 0), [])
    store.close()


def test_an_older_queue_is_migrated_and_its_textless_rows_dropped_at_start_up(db_path: Path) -> None:
    old = connect(db_path)  # the layout before attempts/not_before, holding a row for a NULL text
    old.execute("CREATE TABLE pending_embeddings (item_rowid INTEGER PRIMARY KEY)")
    old.close()
    store = ContextStore.open(db_path, embedder=PickyEmbedder())
    store.store_many([ItemInput(namespace="n", id="a", text="words"), ItemInput(namespace="n", id="b")])
    store._db.execute("INSERT INTO pending_embeddings (item_rowid) SELECT rowid FROM items WHERE id = 'b'")
    store.close()
    store = ContextStore.open(db_path, embedder=PickyEmbedder())
    assert store.pending_embeddings() == 1
    drain(store)
    assert vectors(store) == 1
    store.close()


@pytest.mark.anyio
async def test_the_worker_backoff_holds_against_writes_and_searches(db_path: Path) -> None:
    embedder = PickyEmbedder(broken=True)
    store = ContextStore.open(db_path, embedder=embedder)
    worker = EmbeddingWorker(SqliteStorage(store), backoff=60.0)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(worker.run)
        await anyio.to_thread.run_sync(store.store, ItemInput(namespace="n", id="0", text="first"))
        worker.wake()
        assert await anyio.to_thread.run_sync(embedder.called.wait, 10)
        with anyio.fail_after(10):
            while worker.retry_at is None:
                await anyio.wait_all_tasks_blocked()
        rounds, calls = worker.rounds, embedder.calls
        for i in range(1, 51):
            await anyio.to_thread.run_sync(store.store, ItemInput(namespace="n", id=str(i), text="more"))
            worker.wake()
            await worker.flush()
            await anyio.wait_all_tasks_blocked()
        assert (worker.rounds, embedder.calls) == (rounds, calls)
        assert worker.retry_at - anyio.current_time() > 50
        tasks.cancel_scope.cancel()
    store.close()
