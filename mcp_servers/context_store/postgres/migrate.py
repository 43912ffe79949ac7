"""Copy a SQLite context store into PostgreSQL, then verify that every count matches.

    pepper-context-admin migrate --db FILE [--tenant NAME]   (PEPPER_CONTEXT_DATABASE_URL names the target)
    python -m mcp_servers.context_store.postgres.migrate --db FILE --to postgresql://... [--tenant NAME]

Items keep their row ids, events their positions, consumers their cursors, so a consumer resumes
after a migration exactly where it stopped; vectors are copied when the file has them (the target
records the same embedder, so nothing is embedded again), and the embedding queue and its failures
come along. Everything is written in one transaction into an empty tenant: the counts of items,
events, consumers, vectors and queued embeddings are compared before the commit, and any
difference rolls the whole copy back. Stop the servers that write the file first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import psycopg
import sqlite_vec  # noqa: F401 - connect() loads it; imported here so a missing package fails early
from pgvector import Vector
from pgvector.psycopg import register_vector_async
from psycopg import sql

from ..errors import ContextStoreError, StorageError
from ..schema import vector_table_exists
from ..sqlite import connect
from . import schema
from .errors import translated
from .storage import describe, schema_name

__all__ = ["Counts", "main", "migrate"]

Counts = dict[str, int]
TABLES = {  # target table: (SQLite query, target columns)
    "items": (
        "SELECT rowid, namespace, id, data, text, tags, metadata, created_at, updated_at, expires_at "
        "FROM items ORDER BY rowid",
        "rowid, namespace, id, data, text, tags, metadata, created_at, updated_at, expires_at",
    ),
    "events": ("SELECT seq, namespace, id, op, at FROM events ORDER BY seq", "seq, namespace, id, op, at"),
    "consumers": ("SELECT name, seq, acked_at FROM consumers", "name, seq, acked_at"),
    "pending_embeddings": (
        "SELECT item_rowid, attempts, not_before FROM pending_embeddings",
        "item_rowid, attempts, not_before",
    ),
    "embedding_failures": (
        "SELECT item_rowid, reason, failed_at FROM embedding_failures",
        "item_rowid, reason, failed_at",
    ),
}


async def migrate(db_path: Path, url: str, tenant: str | None = None) -> Counts:
    """Copy the store in `db_path` into `url`'s tenant; returns the verified counts."""
    source = await anyio.to_thread.run_sync(_open_source, db_path)
    try:
        async with translated(describe(url)):
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as target:
                await _act_as_owner(target, schema_name(tenant))
                await schema.create_schema(target, schema_name(tenant), _unindexed(source))
                await target.execute(
                    sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema_name(tenant)))
                )
                await register_vector_async(target)
                async with target.transaction():
                    return await _copy(source, target)
    finally:
        source.close()


async def _act_as_owner(target: Any, name: str) -> None:
    """A tenant made by `pepper-context-admin add-tenant` owns its schema through a role of its own:
    the copied tables must be that role's too, or its server could not use them."""
    owner = await (
        await target.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s AND nspowner <> "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)",
            (name,),
        )
    ).fetchone()
    if owner is not None:
        await target.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner[0])))


def _unindexed(source: Any) -> list[str] | None:
    """The file's own rule for the keyword index (the trigger applies it to the copied rows)."""
    if source.execute("SELECT 1 FROM sqlite_master WHERE name = 'unindexed_namespaces'").fetchone() is None:
        return None  # a file older than the rule: the target keeps its own
    return [row[0] for row in source.execute("SELECT namespace FROM unindexed_namespaces")]


def _open_source(db_path: Path) -> Any:
    if not db_path.is_file():
        raise StorageError(f"no SQLite store at {db_path}: give the file with --db")
    return connect(db_path)


async def _copy(source: Any, target: Any) -> Counts:
    held = (
        await (
            await target.execute("SELECT (SELECT count(*) FROM items) + (SELECT last FROM log_head)")
        ).fetchone()
    )[0]
    if held:
        raise StorageError("the target tenant is not empty: migrate into a new tenant (--tenant NAME)")
    embedder = dict(source.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder.%'").fetchall())
    has_vectors = vector_table_exists(source) and len(embedder) == 2
    if has_vectors:
        await schema.prepare_vector_table(
            target, embedder["embedder.name"], int(embedder["embedder.dimension"])
        )
        await target.execute("DELETE FROM pending_embeddings")  # the file's own queue comes next
    expected = {}
    for table, (query, columns) in TABLES.items():
        expected[table] = await _copy_rows(source, target, table, query, columns)
    if has_vectors:
        expected["items_vec"] = await _copy_rows(
            source, target, "items_vec", "SELECT rowid, embedding FROM items_vec", "item_rowid, embedding"
        )
    last = source.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    await target.execute("UPDATE log_head SET last = %s", (int(last[0]) if last else 0,))
    await target.execute(
        "SELECT setval(pg_get_serial_sequence('items', 'rowid'), coalesce(max(rowid), 0) + 1, false) FROM items"
    )
    copied = {}
    for table in expected:
        copied[table] = (
            await (
                await target.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            ).fetchone()
        )[0]
    if copied != expected:
        raise StorageError(
            f"the copy does not match the file (copied {copied}, expected {expected}): nothing was kept"
        )
    return copied


async def _copy_rows(source: Any, target: Any, table: str, query: str, columns: str) -> int:
    count = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), sql.SQL(columns))
    async with target.cursor() as cursor, cursor.copy(statement) as copy:
        for row in source.execute(query):
            await copy.write_row(_converted(table, row))
            count += 1
    return count


def _converted(table: str, row: Sequence[Any]) -> Sequence[Any]:
    if table == "items":  # tags are a JSON array in SQLite, a text[] here
        return (*row[:5], json.loads(row[5]), *row[6:])
    if table == "items_vec":
        return (row[0], Vector(list(memoryview(row[1]).cast("f"))))
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_servers.context_store.postgres.migrate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", type=Path, required=True, help="the SQLite store to copy")
    parser.add_argument("--to", required=True, help="postgresql://USER:PASSWORD@HOST:PORT/DB")
    parser.add_argument("--tenant", help="the tenant to copy into (default: schema pepper)")
    arguments = parser.parse_args(argv)
    try:
        counts = asyncio.run(migrate(arguments.db, arguments.to, arguments.tenant))
    except ContextStoreError as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 2
    print("copied and verified: " + ", ".join(f"{table} {count}" for table, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
