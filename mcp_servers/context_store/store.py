"""`ContextStore`: items, the event log and search over one SQLite file, as blocking calls.

Every method is synchronous and thread-safe (one write connection behind a lock, reads on
connections of their own, each under a deadline); the MCP server runs them with
`anyio.to_thread.run_sync`, never on the event loop. Each write is one `BEGIN IMMEDIATE`
transaction that changes the items and appends their events together, so after any crash the log
and the items agree, and a `store_many` batch is all there or not at all. Expired items are
filtered out of every read at once and purged (with an `expire` event) by `purge_expired`.
Embedding is deferred: a write queues the item in `pending_embeddings` (same transaction) and
`embed_pending` fills vectors later (see `embedding_queue`), so a slow embedder never holds up a
write. SQLite's errors become `StorageError`s at one boundary, `Database.translated`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import embedding_queue, events, schema, search
from .database import Database
from .errors import InvalidInput, NotFound, SemanticSearchOff
from .limits import Limits
from .models import (
    Event,
    EventPage,
    Item,
    ItemInput,
    SearchHit,
    Written,
    check_consumer,
    check_depth,
    check_id,
    check_namespace,
    check_tags,
    encode_json,
    from_epoch,
    to_epoch,
)
from .sqlite import BUSY_TIMEOUT_MS, MMAP_BYTES
from .wakeups import Wakeups

if TYPE_CHECKING:
    from .embedders import Embedder

__all__ = ["ContextStore", "Limits", "Row", "Written", "prepare_row"]

logger = logging.getLogger(__name__)

ITEM_COLUMNS = "namespace, id, data, text, tags, metadata, created_at, updated_at, expires_at"
UPSERT = (
    "INSERT INTO items (namespace, id, data, text, tags, metadata, expires_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (namespace, id) DO UPDATE SET data = excluded.data, text = excluded.text, "
    "tags = excluded.tags, metadata = excluded.metadata, updated_at = excluded.updated_at, "
    "expires_at = excluded.expires_at, created_at = CASE WHEN items.expires_at <= excluded.updated_at "
    "THEN excluded.created_at ELSE items.created_at END"
)
QUEUE_EMBEDDING = (
    "INSERT INTO pending_embeddings (item_rowid, priority, queued_at) "
    "SELECT rowid, ?, ? FROM items WHERE namespace = ? AND id = ? "
    "ON CONFLICT (item_rowid) DO UPDATE SET attempts = 0, not_before = 0, priority = excluded.priority, "
    "queued_at = excluded.queued_at"
)
FORGET_VECTOR = "DELETE FROM items_vec WHERE rowid = (SELECT rowid FROM items WHERE namespace = ? AND id = ?)"


class Row(NamedTuple):
    """One checked input, encoded as stored: JSON text for data, tags and metadata."""

    namespace: str
    id: str
    data: str
    text: str | None
    tags: str
    metadata: str
    expires_at: float | None


class ContextStore:
    """The context store over one SQLite file; see the module docstring."""

    def __init__(
        self,
        database: Database,
        embedder: Embedder | None = None,
        limits: Limits = Limits(),
        retention: events.Retention = events.Retention(),
        semantic_off_reason: str = "no embedder is configured",
        unindexed_namespaces: Sequence[str] = (),
    ) -> None:
        self._database = database
        self._db = database.connection
        self.path: Path | None = database.path  # lets a watcher see other processes' commits
        self.wakeups: Wakeups | None = database.wakeups  # other processes' notifiers, woken per commit
        self.embedder = embedder
        self.limits = limits
        self.retention = retention
        self.semantic_off_reason = semantic_off_reason
        self.unindexed_namespaces = tuple(unindexed_namespaces)  # text kept, left out of the lexical index
        self.foreground_at = 0.0  # when an item that goes before the background class was last queued
        with database.locked() as connection:
            schema.create_schema(connection, self.unindexed_namespaces)
            if embedder is not None:
                schema.prepare_vector_table(connection, embedder.name, embedder.dimension)
            if dropped := embedding_queue.tidy(connection):  # one statement: atomic on its own
                logger.info("dropped %d queued embeddings of items without text", dropped)

    @classmethod
    def open(
        cls,
        path: Path | str,
        embedder: Embedder | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        mmap_bytes: int = MMAP_BYTES,
        **options: Any,
    ) -> ContextStore:
        """Open (or create) the database file; raises a `StorageError` that says what is wrong."""
        database = Database.open(path, busy_timeout_ms, mmap_bytes)
        try:
            return cls(database, embedder=embedder, **options)
        except BaseException:
            database.close()
            raise

    def close(self) -> None:
        self._database.close()

    def _write(self) -> AbstractContextManager[Any]:
        return self._database.write()

    def _read(self) -> AbstractContextManager[Any]:
        return self._database.read(self.limits.query_seconds)

    def _locked(self) -> AbstractContextManager[Any]:
        return self._database.locked()

    # Writes ----------------------------------------------------------------------------------

    def store_many(self, inputs: Sequence[ItemInput]) -> list[Written]:
        """Upsert every item in one transaction; all of them are stored or none."""
        self.limits.check_batch(len(inputs))
        now = time.time()
        namespaces: set[str] = set()
        rows = [prepare_row(item, self.limits, now, namespaces) for item in inputs]
        with self._write() as db:
            return self._upsert_all(db, rows, now)

    def store(self, item: ItemInput) -> Written:
        return self.store_many([item])[0]

    def _upsert_all(self, db: Any, rows: list[Row], now: float) -> list[Written]:
        """Upsert rows and log one event each, with executemany (per-row statements cost 2x)."""
        db.executemany(UPSERT, [(*row, now, now) for row in rows])
        if self.embedder is not None:
            queued = [
                (
                    embedding_queue.embed_priority(row.namespace, json.loads(row.tags)),
                    now,
                    row.namespace,
                    row.id,
                )
                for row in rows
                if row.text
            ]
            db.executemany(QUEUE_EMBEDDING, queued)
            if any(priority < embedding_queue.BACKGROUND for priority, *_ in queued):
                self.foreground_at = now
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'items_vec'").fetchone():
                db.executemany(FORGET_VECTOR, [(row.namespace, row.id) for row in rows if not row.text])
        before = events.next_seq(db) - 1
        db.executemany(
            "INSERT INTO events (namespace, id, op, at) VALUES (?, ?, 'store', ?)",
            [(row.namespace, row.id, now) for row in rows],
        )
        # One writer holds the lock, so AUTOINCREMENT hands this batch consecutive seqs.
        return [Written(namespace=row.namespace, id=row.id, seq=before + n) for n, row in enumerate(rows, 1)]

    def delete(self, namespace: str, item_id: str) -> Written:
        """Delete a live item; `NotFound` when there is none."""
        check_namespace(namespace), check_id(item_id)
        now = time.time()
        with self._write() as db:
            row = db.execute(
                "DELETE FROM items WHERE namespace = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?) "
                "RETURNING rowid",
                (namespace, item_id, now),
            ).fetchone()
            if row is None:
                raise NotFound(f"no item {item_id!r} in namespace {namespace!r}: nothing was deleted")
            search.forget_vector(db, row[0])
            seq = events.append(db, namespace, item_id, "delete", now)
        return Written(namespace=namespace, id=item_id, seq=seq)

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired items, each with an `expire` event; returns how many went."""
        now = time.time() if now is None else now
        with self._write() as db:
            gone = db.execute(
                "DELETE FROM items WHERE expires_at <= ? RETURNING rowid, namespace, id", (now,)
            ).fetchall()
            for rowid, namespace, item_id in gone:
                search.forget_vector(db, rowid)
                events.append(db, namespace, item_id, "expire", now)
        return len(gone)

    def compact_events(self, now: float | None = None) -> int:
        with self._write() as db:
            return events.compact(db, self.retention, time.time() if now is None else now)

    # Reads -----------------------------------------------------------------------------------

    def get(self, namespace: str, item_id: str) -> Item:
        check_namespace(namespace), check_id(item_id)
        with self._read() as db:
            row = db.execute(
                f"SELECT {ITEM_COLUMNS} FROM items WHERE namespace = ? AND id = ? "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (namespace, item_id, time.time()),
            ).fetchone()
        if row is None:
            raise NotFound(
                f"no item {item_id!r} in namespace {namespace!r}: check the id, or query the namespace"
            )
        return item_from_row(row)

    def query(
        self,
        namespaces: Sequence[str] = (),
        tags: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Item]:
        """Live items matching every filter, newest (by updated_at) first."""
        limit = self.limits.check_page(limit)
        self.limits.check_filters(namespaces, tags)
        where, params = search.item_filter(namespaces, tags, since, until, time.time())
        with self._read() as db:
            rows = db.execute(
                f"SELECT {ITEM_COLUMNS} FROM items WHERE {where} ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [item_from_row(row) for row in rows]

    def search(self, text: str, mode: str = "hybrid", limit: int = 10, **filters: Any) -> list[SearchHit]:
        """Lexical, semantic or hybrid search; semantic modes need an embedder."""
        self.check_search(text, mode, limit, filters.get("namespaces") or (), filters.get("tags") or ())
        vector = None
        if mode != "lexical":
            if self.embedder is None:
                raise SemanticSearchOff(
                    f"semantic search is off: {self.semantic_off_reason}; use mode='lexical'"
                )
            try:
                vector = self.embedder.embed_query(text)
            except Exception as exc:  # the embedder's own failure, translated at this one boundary
                raise SemanticSearchOff(
                    f"semantic search failed: embedder {self.embedder.name} could not embed the query ({exc}); "
                    "use mode='lexical' or fix the embedder settings"
                ) from exc
        where, params = search.item_filter(
            filters.get("namespaces") or (),
            filters.get("tags") or (),
            filters.get("since"),
            filters.get("until"),
            time.time(),
        )
        with self._read() as db:
            ranked = search.run(db, mode, text, vector, where, params, limit)
            return [SearchHit(item=item_from_row(row), score=score) for row, score in ranked]

    def check_search(self, text: str, mode: str, limit: int, *filters: Sequence[str]) -> None:
        """Refuse a search that breaks a limit, before any work (cheap: call it on the event loop)."""
        self.limits.check_search(text, mode, limit, *filters)

    def pending_embeddings(self) -> int:
        with self._locked() as db:
            return int(db.execute("SELECT count(*) FROM pending_embeddings").fetchone()[0])

    def embed_pending(self, batch: int = 64, now: float | None = None, idle_seconds: float = 0.0) -> int:
        """Embed up to `batch` due items (the embedder runs outside the lock), the background class
        only once nothing else was queued for `idle_seconds`; returns how many were tried. One bad
        item fails alone; an error means the embedder itself is down (see `embedding_queue`)."""
        if self.embedder is None:
            return 0
        now = time.time() if now is None else now
        with self._locked() as db:
            queued = embedding_queue.due(db, now, batch, now - self.foreground_at >= idle_seconds)
        if not queued:
            return 0
        result = embedding_queue.embed_round(self.embedder, queued)
        with self._write() as db:
            embedding_queue.record(db, queued, result, now)
        return len(queued)

    def shrink_memory(self) -> None:
        """Free what SQLite caches in memory (to keep to a memory budget)."""
        self._database.shrink()

    def embedding_failures(self) -> list[tuple[str, str, str]]:
        """(namespace, id, reason) of the items whose embedding was given up."""
        with self._locked() as db:
            return embedding_queue.failures(db)

    # Event log -------------------------------------------------------------------------------

    def read_events(
        self,
        after: int | None = None,
        namespaces: Sequence[str] = (),
        limit: int = 100,
        consumer: str | None = None,
    ) -> EventPage:
        """Events after `after` (or after `consumer`'s acked cursor when `after` is None)."""
        limit = self.limits.check_page(limit)
        self.limits.check_filters(namespaces, ())
        if after is not None and after < 0:
            raise InvalidInput(f"after={after} is negative: pass 0 to read from the start")
        with self._read() as db:
            if after is None:
                after = events.cursor_of(db, check_consumer(consumer)) if consumer else 0
            return events.read_events(db, after, list(namespaces) or None, limit)

    def ack(self, consumer: str, seq: int) -> int:
        check_consumer(consumer)
        with self._write() as db:
            if seq < 0 or seq > events.last_seq(db):
                raise InvalidInput(f"cannot ack seq {seq}: it must be between 0 and the last event's seq")
            return events.ack(db, consumer, seq, time.time())

    def cursor(self, consumer: str) -> int:
        with self._locked() as db:
            return events.cursor_of(db, check_consumer(consumer))

    def last_seq(self) -> int:
        with self._locked() as db:
            return events.last_seq(db)

    def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        """Raw events after `seq` for the notifier (no filters, no gap detection)."""
        with self._locked() as db:
            return events.read_events(db, seq, None, limit).events

    def count(self) -> tuple[int, int]:
        """(live and expired items, events): for checks that the log and the items agree."""
        with self._locked() as db:
            items = db.execute("SELECT count(*) FROM items").fetchone()[0]
            logged = db.execute("SELECT count(*) FROM events").fetchone()[0]
        return int(items), int(logged)


def prepare_row(item: ItemInput, limits: Limits, now: float, checked: set[str]) -> Row:
    """Check one input against the rules and limits (every backend shares them) and encode it."""
    namespace = item.namespace
    if namespace not in checked:  # a batch mostly repeats a few namespaces: check each once
        checked.add(check_namespace(namespace))
    item_id = check_id(item.id) if item.id is not None else str(uuid.uuid4())
    check_depth(item.data, limits.max_json_depth, "data")
    check_depth(item.metadata, limits.max_json_depth, "metadata")
    data = encode_json(item.data, "data")
    metadata = encode_json(item.metadata, "metadata") if item.metadata else "{}"
    size = len(data.encode()) + len((item.text or "").encode()) + len(metadata.encode())
    if size > limits.max_item_bytes:
        raise InvalidInput(
            f"item {namespace}/{item_id} is {size} bytes: data + text + metadata may hold at most "
            f"{limits.max_item_bytes} bytes; store large content elsewhere and keep a reference"
        )
    if item.ttl_seconds is not None and item.expires_at is not None:
        raise InvalidInput("give either ttl_seconds or expires_at, not both")
    expires_at = now + item.ttl_seconds if item.ttl_seconds is not None else None
    if item.expires_at is not None:
        expires_at = to_epoch(item.expires_at)
    tags = json.dumps(check_tags(item.tags)) if item.tags else "[]"
    return Row(namespace, item_id, data, item.text, tags, metadata, expires_at)


def item_from_row(row: Sequence[Any]) -> Item:
    namespace, item_id, data, text, tags, metadata, created, updated, expires = row
    return Item(
        namespace=namespace,
        id=item_id,
        data=json.loads(data),
        text=text,
        tags=json.loads(tags),
        metadata=json.loads(metadata),
        created_at=from_epoch(created),
        updated_at=from_epoch(updated),
        expires_at=from_epoch(expires) if expires is not None else None,
    )
