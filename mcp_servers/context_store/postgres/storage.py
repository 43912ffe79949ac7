"""`PostgresStorage`: the `Storage` protocol on PostgreSQL + pgvector, for many processes and machines.

One tenant per opened backend: its tables live in the schema `pepper` (or `pepper_<tenant>`), which
every pooled connection sets as its `search_path`; no call can name another. Each write is one
transaction that upserts the items, then, as its last step, takes the next positions from the
single `log_head` row (`UPDATE ... RETURNING`), appends the events and queues a `NOTIFY` carrying
the newest position. The row lock is held until the commit, so a second writer gets its positions
only after the first has committed and become visible: positions are in commit order, and a reader
that has seen position `p` can never later be shown an event at or below `p` (the out-of-order
commit gap of a plain sequence cannot happen). Items are upserted in key order, so two batches that
share items lock them in the same order and cannot deadlock. Reads run in a REPEATABLE READ
snapshot under `statement_timeout`. Other writers' commits reach `watch_changes` through
`LISTEN`, on a connection of its own that reconnects after a server restart; the pool checks each
connection before use, so calls recover by themselves once the server is back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
import psycopg
from anyio.abc import TaskStatus
from pgvector.psycopg import register_vector_async
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from .. import embedding_queue
from ..errors import InvalidInput, NotFound, QueryTimeout, SemanticSearchOff
from ..events import DAY, Retention
from ..limits import Limits
from ..models import (
    Event,
    EventPage,
    Item,
    ItemInput,
    SearchHit,
    Written,
    check_consumer,
    check_id,
    check_namespace,
)
from ..store import Row, prepare_row
from . import embeddings, queries, schema, words
from .errors import translated
from .rows import FORGET, QUEUE, UNFAIL, UNQUEUE, UPSERT, checked, describe, item_from_row, schema_name

if TYPE_CHECKING:
    from ..embedders import Embedder

__all__ = ["PostgresStorage", "describe", "schema_name"]

logger = logging.getLogger(__name__)


class PostgresStorage:
    """The context store on PostgreSQL; see the module docstring. Open it with `open`."""

    backend = "postgresql"
    watches_commits = True

    def __init__(self, url: str, tenant: str | None = None, embedder: Embedder | None = None, **options: Any):
        self.url = url
        self.where = describe(url)
        self.schema = schema_name(tenant)
        self.channel = f"{self.schema}_changes"
        self.embedder = embedder
        self.limits: Limits = options.get("limits", Limits())
        self.retention: Retention = options.get("retention", Retention())
        self.semantic_off_reason: str = options.get("semantic_off_reason", "no embedder is configured")
        self.unindexed_namespaces: tuple[str, ...] = tuple(options.get("unindexed_namespaces", ()))
        self.pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=options.get("pool_size", 8),
            open=False,
            timeout=options.get("connect_seconds", 5.0),
            kwargs={"autocommit": True},
            configure=self._configure,
            check=AsyncConnectionPool.check_connection,
        )

    @classmethod
    async def open(
        cls, url: str, tenant: str | None = None, embedder: Embedder | None = None, **options: Any
    ):
        """Create the tenant's schema if need be and open the pool; a `StorageError` says what is wrong."""
        storage = cls(url, tenant, embedder, **options)
        async with translated(storage.where):
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await schema.create_schema(connection, storage.schema, storage.unindexed_namespaces)
                await storage._set_path(connection)
                await words.backfill(connection)
                if embedder is not None:
                    await schema.prepare_vector_table(connection, embedder.name, embedder.dimension)
            await storage.pool.open(wait=True, timeout=options.get("connect_seconds", 5.0))
        return storage

    async def _set_path(self, connection: Any) -> None:
        await connection.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema)))

    async def _configure(self, connection: Any) -> None:
        await self._set_path(connection)
        # An acknowledged write must survive a crash of the server, whatever its configuration says.
        await connection.execute("SET synchronous_commit = on")
        await register_vector_async(connection)

    async def aclose(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Any]:
        async with translated(self.where), self.pool.connection() as db, db.transaction():
            yield db

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Any]:
        seconds = self.limits.query_seconds
        try:
            async with translated(self.where), self.pool.connection() as db, db.transaction():
                await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                await db.execute(
                    "SELECT set_config('statement_timeout', %s, true)", (f"{int(seconds * 1000)}ms",)
                )
                yield db
        except QueryTimeout as exc:
            raise QueryTimeout(
                f"the read took longer than {seconds:g} s and was stopped ({exc}): narrow it "
                "(fewer words, a namespace filter, a smaller limit) and try again"
            ) from exc

    async def _append(self, db: Any, entries: Sequence[tuple[str, str, str]], now: float) -> list[int]:
        """Log `(namespace, id, op)` entries; the last step of a write (see the module docstring)."""
        if not entries:
            return []
        cursor = await db.execute("UPDATE log_head SET last = last + %s RETURNING last", (len(entries),))
        last = int((await cursor.fetchone())[0])
        first = last - len(entries) + 1
        seqs = list(range(first, last + 1))
        async with db.cursor() as cur:
            await cur.executemany(
                "INSERT INTO events (seq, namespace, id, op, at) VALUES (%s, %s, %s, %s, %s)",
                [
                    (seq, namespace, item_id, op, now)
                    for seq, (namespace, item_id, op) in zip(seqs, entries, strict=True)
                ],
            )
        await db.execute("SELECT pg_notify(%s, %s)", (self.channel, str(last)))
        return seqs

    # Writes ----------------------------------------------------------------------------------

    async def store_many(self, inputs: Sequence[ItemInput]) -> list[Written]:
        self.limits.check_batch(len(inputs))
        now = time.time()
        namespaces: set[str] = set()
        rows = [checked(prepare_row(item, self.limits, now, namespaces)) for item in inputs]
        if not rows:
            return []
        async with self._write() as db:
            await self._upsert(db, rows, now)
            seqs = await self._append(db, [(row.namespace, row.id, "store") for row in rows], now)
        return [
            Written(namespace=row.namespace, id=row.id, seq=seq) for row, seq in zip(rows, seqs, strict=True)
        ]

    async def store(self, item: ItemInput) -> Written:
        return (await self.store_many([item]))[0]

    async def _upsert(self, db: Any, rows: list[Row], now: float) -> None:
        ordered = sorted(
            rows, key=lambda row: (row.namespace, row.id)
        )  # stable: a repeated id keeps its order
        keys_with_text = [(row.namespace, row.id) for row in rows if row.text]
        keys_without = [(row.namespace, row.id) for row in rows if not row.text]
        async with db.cursor() as cur:
            values = [(*row[:4], json.loads(row.tags), *row[5:], now, now) for row in ordered]
            await cur.executemany(UPSERT, values)
            if keys_with_text:
                await cur.executemany(UNFAIL, keys_with_text)
                if self.embedder is not None:
                    await cur.executemany(QUEUE, keys_with_text)
            if keys_without:
                await cur.executemany(UNQUEUE, keys_without)
                if self.embedder is not None:
                    await cur.executemany(FORGET, keys_without)

    async def delete(self, namespace: str, item_id: str) -> Written:
        check_namespace(namespace), check_id(item_id)
        now = time.time()
        async with self._write() as db:
            cursor = await db.execute(
                "DELETE FROM items WHERE namespace = %s AND id = %s AND (expires_at IS NULL OR expires_at > %s) "
                "RETURNING rowid",
                (namespace, item_id, now),
            )
            if await cursor.fetchone() is None:
                raise NotFound(f"no item {item_id!r} in namespace {namespace!r}: nothing was deleted")
            (seq,) = await self._append(db, [(namespace, item_id, "delete")], now)
        return Written(namespace=namespace, id=item_id, seq=seq)

    async def purge_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        async with self._write() as db:
            gone = await (
                await db.execute(
                    "WITH gone AS (DELETE FROM items WHERE expires_at <= %s RETURNING rowid, namespace, id) "
                    "SELECT namespace, id FROM gone ORDER BY rowid",
                    (now,),
                )
            ).fetchall()
            await self._append(db, [(namespace, item_id, "expire") for namespace, item_id in gone], now)
        return len(gone)

    async def compact_events(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        retention = self.retention
        async with self._write() as db:
            by_age, last, live_floor = await (
                await db.execute(
                    "SELECT (SELECT coalesce(max(seq), 0) FROM events WHERE at < %s), (SELECT last FROM log_head), "
                    "(SELECT min(seq) FROM consumers WHERE acked_at >= %s)",
                    (now - retention.max_age_days * DAY, now - retention.consumer_live_days * DAY),
                )
            ).fetchone()
            limit = max(int(by_age), max(0, int(last) - retention.max_events))
            if live_floor is not None:
                limit = min(limit, int(live_floor))
            if limit <= 0:
                return 0
            return int((await db.execute("DELETE FROM events WHERE seq <= %s", (limit,))).rowcount)

    # Reads -----------------------------------------------------------------------------------

    async def get(self, namespace: str, item_id: str) -> Item:
        check_namespace(namespace), check_id(item_id)
        async with self._read() as db:
            row = await (
                await db.execute(
                    f"SELECT {queries.COLUMNS} FROM items WHERE namespace = %s AND id = %s "
                    "AND (expires_at IS NULL OR expires_at > %s)",
                    (namespace, item_id, time.time()),
                )
            ).fetchone()
        if row is None:
            raise NotFound(
                f"no item {item_id!r} in namespace {namespace!r}: check the id, or query the namespace"
            )
        return item_from_row(row)

    async def query(
        self,
        namespaces: Sequence[str] = (),
        tags: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Item]:
        limit = self.limits.check_page(limit)
        self.limits.check_filters(namespaces, tags)
        where, params = queries.item_filter(namespaces, tags, since, until, time.time())
        async with self._read() as db:
            rows = await (
                await db.execute(
                    f"SELECT {queries.COLUMNS} FROM items WHERE {where} "
                    "ORDER BY updated_at DESC, rowid DESC LIMIT %s",
                    [*params, limit],
                )
            ).fetchall()
        return [item_from_row(row) for row in rows]

    def check_search(self, text: str, mode: str, limit: int, *filters: Sequence[str]) -> None:
        self.limits.check_search(text, mode, limit, *filters)

    async def search(
        self, text: str, mode: str = "hybrid", limit: int = 10, **filters: Any
    ) -> list[SearchHit]:
        namespaces, tags = filters.get("namespaces") or (), filters.get("tags") or ()
        self.check_search(text, mode, limit, namespaces, tags)
        vector = None if mode == "lexical" else await self._embed_query(text)
        where, params = queries.item_filter(
            namespaces, tags, filters.get("since"), filters.get("until"), time.time()
        )
        async with self._read() as db:
            ranked = await queries.run_search(
                db, mode, text, vector, where, params, limit, self.unindexed_namespaces
            )
        return [SearchHit(item=item_from_row(row), score=score) for row, score in ranked]

    async def _embed_query(self, text: str) -> list[float]:
        if self.embedder is None:
            raise SemanticSearchOff(f"semantic search is off: {self.semantic_off_reason}; use mode='lexical'")
        try:
            return await anyio.to_thread.run_sync(self.embedder.embed_query, text)
        except Exception as exc:  # the embedder's own failure, translated at this one boundary
            raise SemanticSearchOff(
                f"semantic search failed: embedder {self.embedder.name} could not embed the query ({exc}); "
                "use mode='lexical' or fix the embedder settings"
            ) from exc

    async def pending_embeddings(self) -> int:
        async with self._read() as db:
            return int((await (await db.execute("SELECT count(*) FROM pending_embeddings")).fetchone())[0])

    async def shrink_memory(self) -> None:
        """Nothing to free: PostgreSQL caches in its own processes."""

    async def embed_pending(
        self, batch: int = 64, now: float | None = None, idle_seconds: float = 0.0
    ) -> int:
        """Embed up to `batch` due items (the embedder runs in a worker thread, outside any transaction);
        the queue is served in plain order here (`idle_seconds` is not used yet: see the README)."""
        if self.embedder is None:
            return 0
        now = time.time() if now is None else now
        async with self._read() as db:
            queued = await embeddings.due(db, now, batch)
        if not queued:
            return 0
        result = await anyio.to_thread.run_sync(embedding_queue.embed_round, self.embedder, queued)
        async with self._write() as db:
            await embeddings.record(db, queued, result, now)
        return len(queued)

    async def embedding_failures(self) -> list[tuple[str, str, str]]:
        async with self._read() as db:
            return await embeddings.failures(db)

    async def count(self) -> tuple[int, int]:
        async with self._read() as db:
            items, logged = await (
                await db.execute("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM events)")
            ).fetchone()
        return int(items), int(logged)

    # Event log -------------------------------------------------------------------------------

    async def read_events(
        self,
        after: int | None = None,
        namespaces: Sequence[str] = (),
        limit: int = 100,
        consumer: str | None = None,
    ) -> EventPage:
        limit = self.limits.check_page(limit)
        self.limits.check_filters(namespaces, ())
        if after is not None and after < 0:
            raise InvalidInput(f"after={after} is negative: pass 0 to read from the start")
        async with self._read() as db:
            if after is None:
                after = await self._cursor(db, check_consumer(consumer)) if consumer else 0
            return await queries.read_events(db, after, list(namespaces), limit)

    async def ack(self, consumer: str, seq: int) -> int:
        check_consumer(consumer)
        async with self._write() as db:
            last = (await (await db.execute("SELECT last FROM log_head")).fetchone())[0]
            if seq < 0 or seq > last:
                raise InvalidInput(f"cannot ack seq {seq}: it must be between 0 and the last event's seq")
            row = await (
                await db.execute(
                    "INSERT INTO consumers (name, seq, acked_at) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
                    "SET seq = greatest(consumers.seq, excluded.seq), acked_at = excluded.acked_at RETURNING seq",
                    (consumer, seq, time.time()),
                )
            ).fetchone()
        return int(row[0])

    async def _cursor(self, db: Any, consumer: str) -> int:
        row = await (await db.execute("SELECT seq FROM consumers WHERE name = %s", (consumer,))).fetchone()
        return int(row[0]) if row else 0

    async def cursor(self, consumer: str) -> int:
        async with self._read() as db:
            return await self._cursor(db, check_consumer(consumer))

    async def last_seq(self) -> int:
        async with self._read() as db:
            return int((await (await db.execute("SELECT last FROM log_head")).fetchone())[0])

    async def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        async with self._read() as db:
            return (await queries.read_events(db, seq, [], limit)).events

    async def watch_changes(
        self,
        on_change: Callable[[int], None],
        retry_seconds: float = 0.5,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """`LISTEN` for other writers' commits (started once listening, or once the first try failed);
        reconnects with backoff after losing the server."""
        pause, starting = retry_seconds, [task_status]
        while True:
            try:
                await self._listen(on_change, starting)
                pause = retry_seconds
            except psycopg.OperationalError as exc:
                logger.warning(
                    "listening for changes on %s failed (%s); retrying in %.1f s", self.where, exc, pause
                )
            while starting:  # the first try failed: start anyway, the safety read covers the gap
                starting.pop().started()
            await anyio.sleep(pause)
            pause = min(5.0, pause * 2)

    async def _listen(self, on_change: Callable[[int], None], starting: list[TaskStatus[None]]) -> None:
        connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            while starting:
                starting.pop().started()
            on_change(0)  # whatever was committed while nobody listened
            async for notice in connection.notifies():
                on_change(int(notice.payload))
        finally:
            with anyio.CancelScope(shield=True):  # closed even when the listener is cancelled
                await connection.close()
