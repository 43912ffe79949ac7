"""The context store's SQLite schema, created idempotently, and the vector table's lifecycle.

`items` holds one row per (namespace, id); `items_fts` is an FTS5 index kept in step by triggers, over
the text of every namespace but those in `unindexed_namespaces` (the `PEPPER_CONTEXT_UNINDEXED_NAMESPACES`
setting, `raw.email` by default: the gmail server's own index answers keyword search of mail);
`events` is the append-only log (AUTOINCREMENT, so a seq is never reused, even after compaction);
`consumers` holds each named consumer's acked cursor; `pending_embeddings` queues items whose text
still needs a vector (with the attempts so far, when to try next, and its place in the queue:
`priority` and `queued_at`, see `embedding_queue`), `embedding_failures` keeps
the items given up on and why (see `embedding_queue`). A vec0 table's dimension is fixed, so `meta` records which embedder filled
`items_vec`: when the embedder's name or dimension changes, the table is re-created and every item
with text is queued for embedding again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

__all__ = ["create_schema", "prepare_vector_table", "vector_table_exists"]

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    rowid INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    text TEXT,
    tags TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL,
    UNIQUE (namespace, id)
);
CREATE INDEX IF NOT EXISTS items_by_updated ON items (updated_at);
CREATE INDEX IF NOT EXISTS items_by_namespace ON items (namespace, updated_at);
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('store', 'delete', 'expire')),
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (at);
CREATE TABLE IF NOT EXISTS consumers (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    acked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_embeddings (
    item_rowid INTEGER PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 1,
    queued_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS embedding_failures (
    item_rowid INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    failed_at REAL NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (
    text, content='items', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS unindexed_namespaces (namespace TEXT PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS items_forget_embedding AFTER DELETE ON items BEGIN
    DELETE FROM pending_embeddings WHERE item_rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS items_forget_embedding_failure AFTER DELETE ON items BEGIN
    DELETE FROM embedding_failures WHERE item_rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS items_unqueue_textless AFTER UPDATE OF text ON items
WHEN new.text IS NULL BEGIN
    DELETE FROM pending_embeddings WHERE item_rowid = new.rowid;
END;
CREATE TRIGGER IF NOT EXISTS items_retry_embedding AFTER UPDATE OF text ON items
WHEN new.text IS NOT NULL BEGIN
    DELETE FROM embedding_failures WHERE item_rowid = new.rowid;
END;
"""

# The FTS triggers index an item's text unless its namespace is in `unindexed_namespaces` (an item's
# namespace never changes, so the condition is the same for its insert, updates and delete). They are
# dropped and created again on every open: files of the previous format had triggers without it.
INDEXED = "new.namespace NOT IN (SELECT namespace FROM unindexed_namespaces)"
WAS_INDEXED = "old.namespace NOT IN (SELECT namespace FROM unindexed_namespaces)"
RETIRED_TRIGGERS = ("items_fts_unindex", "items_fts_reindex")  # the previous format's update pair
FTS_TRIGGERS = {
    "items_fts_insert": f"""AFTER INSERT ON items WHEN new.text IS NOT NULL AND {INDEXED} BEGIN
    INSERT INTO items_fts (rowid, text) VALUES (new.rowid, new.text);
END""",
    "items_fts_delete": f"""AFTER DELETE ON items WHEN old.text IS NOT NULL AND {WAS_INDEXED} BEGIN
    INSERT INTO items_fts (items_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END""",
    # One trigger for both halves of an update: SQLite fires triggers in no documented order (newest
    # first in practice), and FTS5 needs the old text deleted before the new text goes in.
    "items_fts_update": f"""AFTER UPDATE OF text ON items WHEN {WAS_INDEXED} BEGIN
    INSERT INTO items_fts (items_fts, rowid, text) SELECT 'delete', old.rowid, old.text WHERE old.text IS NOT NULL;
    INSERT INTO items_fts (rowid, text) SELECT new.rowid, new.text WHERE new.text IS NOT NULL;
END""",
}


# Columns added since the first release, added to older files on open.
ADDED_COLUMNS = {
    "pending_embeddings": (
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
        ("not_before", "REAL NOT NULL DEFAULT 0"),
        ("priority", "INTEGER NOT NULL DEFAULT 1"),  # items queued before priorities count as source data
        ("queued_at", "REAL NOT NULL DEFAULT 0"),
    ),
}
LATE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS pending_embeddings_due ON pending_embeddings (not_before)",
    "CREATE INDEX IF NOT EXISTS pending_embeddings_order ON pending_embeddings (priority, queued_at)",
)


def create_schema(connection: Any, unindexed_namespaces: Sequence[str] = ()) -> None:
    """Create every table, column, index and trigger that does not exist yet, and leave the text of
    exactly `unindexed_namespaces` out of the lexical index (one transaction)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(SCHEMA):
            connection.execute(statement)
        _add_columns(connection)
        for statement in LATE_INDEXES:
            connection.execute(statement)
        for name in RETIRED_TRIGGERS:
            connection.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name, body in FTS_TRIGGERS.items():
            connection.execute(f"DROP TRIGGER IF EXISTS {name}")
            connection.execute(f"CREATE TRIGGER {name} {body}")
        _set_unindexed(connection, set(unindexed_namespaces))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # SQLite ends the transaction itself on some errors (SQLITE_FULL)
            connection.execute("ROLLBACK")
        raise


def _set_unindexed(connection: Any, wanted: set[str]) -> None:
    """Take the rows of newly unindexed namespaces out of `items_fts`, put those of namespaces indexed
    again back in, and record the set the triggers read."""
    present = {row[0] for row in connection.execute("SELECT namespace FROM unindexed_namespaces")}
    for namespace in wanted - present:
        connection.execute(
            "INSERT INTO items_fts (items_fts, rowid, text) SELECT 'delete', rowid, text FROM items "
            "WHERE namespace = ? AND text IS NOT NULL",
            (namespace,),
        )
        connection.execute("INSERT INTO unindexed_namespaces (namespace) VALUES (?)", (namespace,))
    for namespace in present - wanted:
        connection.execute("DELETE FROM unindexed_namespaces WHERE namespace = ?", (namespace,))
        connection.execute(
            "INSERT INTO items_fts (rowid, text) SELECT rowid, text FROM items WHERE namespace = ? AND text IS NOT NULL",
            (namespace,),
        )
    if wanted != present:
        logger.info("lexical index: namespaces left out now %s (were %s)", sorted(wanted), sorted(present))


def _add_columns(connection: Any) -> None:
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def _statements(script: str) -> list[str]:
    """Split the schema script on statement ends, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (not text.startswith("CREATE TRIGGER") or text.endswith("END;")):
            statements.append(text)
            current = []
    return statements


def vector_table_exists(connection: Any) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'items_vec'").fetchone()
    return row is not None


def prepare_vector_table(connection: Any, embedder_name: str, dimension: int) -> int:
    """Make `items_vec` hold vectors of this embedder; returns how many items were queued anew."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        recorded = dict(connection.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder.%'"))
        wanted = {"embedder.name": embedder_name, "embedder.dimension": str(dimension)}
        queued = 0
        if recorded != wanted or not vector_table_exists(connection):
            queued = _recreate_vector_table(connection, dimension)
            connection.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", wanted.items())
            if recorded:
                logger.warning(
                    "embedder changed from %s to %s: re-embedding %d items",
                    recorded.get("embedder.name"),
                    embedder_name,
                    queued,
                )
        connection.execute("COMMIT")
        return queued
    except BaseException:
        if connection.in_transaction:  # SQLite ends the transaction itself on some errors (SQLITE_FULL)
            connection.execute("ROLLBACK")
        raise


def _recreate_vector_table(connection: Any, dimension: int) -> int:
    connection.execute("DROP TABLE IF EXISTS items_vec")
    connection.execute(
        f"CREATE VIRTUAL TABLE items_vec USING vec0 (embedding float[{int(dimension)}] distance_metric=cosine)"
    )
    connection.execute("DELETE FROM pending_embeddings")
    connection.execute("DELETE FROM embedding_failures")
    cursor = connection.execute(
        "INSERT INTO pending_embeddings (item_rowid) SELECT rowid FROM items WHERE text IS NOT NULL"
    )
    return cursor.rowcount
