"""The embedding queue on PostgreSQL: the same rules as `embedding_queue` (which also embeds the
round, a plain function), with SQL of this backend. Foreign keys with `ON DELETE CASCADE` replace
SQLite's triggers for deleted items; the store's upsert takes textless items out of the queue.
"""

from __future__ import annotations

from typing import Any

from pgvector import Vector

from ..embedding_queue import MAX_ATTEMPTS, RETRY_SECONDS, Queued, Round, logger

__all__ = ["due", "failures", "record"]


async def due(db: Any, now: float, batch: int) -> Queued:
    rows = await (
        await db.execute(
            "SELECT i.rowid, i.text FROM pending_embeddings p JOIN items i ON i.rowid = p.item_rowid "
            "WHERE p.not_before <= %s AND i.text IS NOT NULL ORDER BY p.not_before, p.item_rowid LIMIT %s",
            (now, batch),
        )
    ).fetchall()
    return [(int(rowid), text) for rowid, text in rows]


async def record(db: Any, queued: Queued, result: Round, now: float) -> int:
    """Store the round's vectors and failures for items whose text did not change meanwhile
    (in a few statements per round, not per item: a round may hold a thousand items)."""
    rows = await (
        await db.execute(
            "SELECT rowid, namespace, id, text FROM items WHERE rowid = ANY(%s) FOR UPDATE",
            ([rowid for rowid, _ in queued],),
        )
    ).fetchall()
    current = {rowid: (namespace, item_id, text) for rowid, namespace, item_id, text in rows}
    # Deleted (the cascade dequeued it) or changed (the new text is still queued): leave it.
    unchanged = [(rowid, text) for rowid, text in queued if rowid in current and current[rowid][2] == text]
    embedded = [rowid for rowid, _ in unchanged if rowid in result.vectors]
    async with db.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO items_vec (item_rowid, embedding) VALUES (%s, %s) "
            "ON CONFLICT (item_rowid) DO UPDATE SET embedding = excluded.embedding",
            [(rowid, Vector(result.vectors[rowid])) for rowid in embedded],
        )
    await db.execute("DELETE FROM pending_embeddings WHERE item_rowid = ANY(%s)", (embedded,))
    given_up = 0
    for rowid, _ in unchanged:
        if rowid in result.failed:
            name = f"{current[rowid][0]}/{current[rowid][1]}"
            given_up += await _postpone(db, rowid, name, result.failed[rowid], now)
    return given_up


async def _postpone(db: Any, rowid: int, name: str, reason: str, now: float) -> int:
    row = await (
        await db.execute(
            "UPDATE pending_embeddings SET attempts = attempts + 1, "
            "not_before = %s + %s * (1 << (2 * attempts)) WHERE item_rowid = %s RETURNING attempts",
            (now, RETRY_SECONDS, rowid),
        )
    ).fetchone()
    if row is None or row[0] < MAX_ATTEMPTS:
        logger.warning("embedding %s failed (%s); retrying it later, alone", name, reason)
        return 0
    await db.execute("DELETE FROM pending_embeddings WHERE item_rowid = %s", (rowid,))
    await db.execute(
        "INSERT INTO embedding_failures (item_rowid, reason, failed_at) VALUES (%s, %s, %s) "
        "ON CONFLICT (item_rowid) DO UPDATE SET reason = excluded.reason, failed_at = excluded.failed_at",
        (rowid, reason, now),
    )
    logger.warning("embedding %s failed %d times (%s); it stays out of semantic search", name, row[0], reason)
    return 1


async def failures(db: Any) -> list[tuple[str, str, str]]:
    rows = await (
        await db.execute(
            "SELECT i.namespace, i.id, f.reason FROM embedding_failures f "
            "JOIN items i ON i.rowid = f.item_rowid ORDER BY f.failed_at"
        )
    ).fetchall()
    return [(str(n), str(i), str(r)) for n, i, r in rows]
