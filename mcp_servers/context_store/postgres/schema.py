"""The context store's PostgreSQL schema (one schema per tenant), created idempotently, and the
vector table's lifecycle.

Tables mirror the SQLite ones (`items`, `events`, `consumers`, `pending_embeddings`,
`embedding_failures`, `meta`) with two differences. Lexical search reads a `tsv` column
(`to_tsvector('simple', text)`, set by a trigger, NULL for unindexed namespaces: see `words`) under
a GIN index instead of an FTS5 table kept by triggers.
Positions come from `log_head`, one row holding the last position handed out: a writer locks it
(`UPDATE ... RETURNING`) as the last step before commit, so positions are handed out in commit order
(see `storage`). `items_vec` holds pgvector `vector(dim)` values under an HNSW cosine index; its
dimension is fixed, so `meta` records the embedder, and a change re-creates it and queues every
item with text again. The schema is created under an advisory lock, so that several servers
starting at once do not race on `CREATE ... IF NOT EXISTS`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from . import words

__all__ = ["create_schema", "prepare_vector_table"]

logger = logging.getLogger(__name__)

SCHEMA_LOCK = 0x5045505045520001  # pg_advisory_xact_lock key for DDL ("PEPPER" + 1)

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace text NOT NULL,
    id text NOT NULL,
    data json NOT NULL,
    text text,
    tags text[] NOT NULL,
    metadata json NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    expires_at double precision,
    tsv tsvector,
    UNIQUE (namespace, id)
);
CREATE INDEX IF NOT EXISTS items_by_updated ON items (updated_at);
CREATE INDEX IF NOT EXISTS items_by_namespace ON items (namespace text_pattern_ops, updated_at);
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_by_words ON items USING gin (tsv);
CREATE INDEX IF NOT EXISTS items_by_tags ON items USING gin (tags);
CREATE TABLE IF NOT EXISTS events (
    seq bigint PRIMARY KEY,
    namespace text NOT NULL,
    id text NOT NULL,
    op text NOT NULL CHECK (op IN ('store', 'delete', 'expire')),
    at double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (at);
CREATE TABLE IF NOT EXISTS log_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
);
INSERT INTO log_head (one, last) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS consumers (name text PRIMARY KEY, seq bigint NOT NULL, acked_at double precision NOT NULL);
CREATE TABLE IF NOT EXISTS pending_embeddings (
    item_rowid bigint PRIMARY KEY REFERENCES items (rowid) ON DELETE CASCADE,
    attempts integer NOT NULL DEFAULT 0,
    not_before double precision NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pending_embeddings_due ON pending_embeddings (not_before);
CREATE TABLE IF NOT EXISTS embedding_failures (
    item_rowid bigint PRIMARY KEY REFERENCES items (rowid) ON DELETE CASCADE,
    reason text NOT NULL,
    failed_at double precision NOT NULL
)
"""


async def create_schema(connection: Any, schema: str, unindexed: Sequence[str] | None = None) -> None:
    """Create the tenant's schema and every table and index it lacks, and make the keyword index
    leave out exactly `unindexed` (None: the rule already recorded), in one transaction. The rows
    written under another rule are put right afterwards by `words.backfill`."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        # Looked up first: CREATE ... IF NOT EXISTS needs the right to create even when there is
        # nothing to create, which a tenant's own role (pepper-context-admin) does not have.
        if not await _exists(connection, "SELECT 1 FROM pg_extension WHERE extname = 'vector'"):
            await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        if not await _exists(connection, "SELECT 1 FROM pg_namespace WHERE nspname = %s", schema):
            await connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        await connection.execute(
            sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema))
        )
        await words.check_owner(connection, schema)
        await connection.execute(TABLES)  # no parameters: one round trip for every statement
        await words.enforce_rule(connection, schema, unindexed)


async def _exists(connection: Any, query: str, *parameters: str) -> bool:
    return await (await connection.execute(query, parameters or None)).fetchone() is not None


async def prepare_vector_table(connection: Any, embedder_name: str, dimension: int) -> int:
    """Make `items_vec` hold vectors of this embedder; returns how many items were queued anew."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        rows = await (
            await connection.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder.%%'")
        ).fetchall()
        recorded = dict(rows)
        wanted = {"embedder.name": embedder_name, "embedder.dimension": str(dimension)}
        exists = await (await connection.execute("SELECT to_regclass('items_vec') IS NOT NULL")).fetchone()
        if recorded == wanted and exists[0]:
            return 0
        await connection.execute("DROP TABLE IF EXISTS items_vec")
        await connection.execute(
            sql.SQL(
                "CREATE TABLE items_vec (item_rowid bigint PRIMARY KEY REFERENCES items (rowid) ON DELETE CASCADE, "
                "embedding vector({}) NOT NULL)"
            ).format(sql.Literal(int(dimension)))
        )
        await connection.execute(
            "CREATE INDEX items_vec_hnsw ON items_vec USING hnsw (embedding vector_cosine_ops)"
        )
        await connection.execute("DELETE FROM pending_embeddings")
        await connection.execute("DELETE FROM embedding_failures")
        queued = await connection.execute(
            "INSERT INTO pending_embeddings (item_rowid) SELECT rowid FROM items WHERE text IS NOT NULL"
        )
        for key, value in wanted.items():
            await connection.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        if recorded:
            logger.warning(
                "embedder changed from %s to %s: re-embedding %d items",
                recorded.get("embedder.name"),
                embedder_name,
                queued.rowcount,
            )
        return int(queued.rowcount)
