"""The queue of items waiting for a vector: which are due, embedding them, and what a failure costs.

A write queues an item with text in `pending_embeddings`; triggers (see `schema`) take it out again
when its text becomes NULL or the item is deleted, and `tidy` does the same for a queue written by
an older version. A round embeds the due items as one batch; when the batch fails, each item is
embedded alone, so one bad item never fails the others. If every item of the round fails, a probe
text tells a broken embedder (the error goes up, the items stay queued untouched and the worker
backs off) from bad items. A bad item is retried later (`RETRY_SECONDS` x 4^attempt) and after
`MAX_ATTEMPTS` moves to `embedding_failures` with the reason: it is never retried in a loop that
holds up the rest. Storing the item again (new text) queues it afresh.

The queue serves the newest and most relevant first. Each queued item has a `priority`
(`embed_priority`): 0 for what the user sees and Pepper wrote (every namespace but `raw.*`: signals,
memory, chat), 1 for source data (`raw.*`: mail, calendar), 2 for background data (items tagged
`backfill`: a first sync's old mail, stored for search only). Classes 0 and 1 go newest first (last
queued first); class 2 goes in the order it was stored (a first sync stores newest mail first), and
only when asked (`background`): the worker asks once no item of class 0 or 1 was written for a while.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlite_vec

from . import search

if TYPE_CHECKING:
    from .embedders import Embedder

__all__ = [
    "BACKGROUND",
    "BACKGROUND_TAG",
    "MAX_ATTEMPTS",
    "Round",
    "due",
    "embed_priority",
    "embed_round",
    "failures",
    "record",
    "tidy",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_SECONDS = 60.0
PROBE = "embedder probe"
BACKGROUND_TAG = "backfill"  # the tag of items that may wait for idle time
BACKGROUND = 2  # the priority of those items
# (priority, order): the queue's classes in the order they are served (see the module doc).
SERVED = ((0, "DESC"), (1, "DESC"), (BACKGROUND, "ASC"))

Queued = list[tuple[int, str]]


class Round:
    """What one round produced: vectors for some items, a reason for each that failed."""

    def __init__(self) -> None:
        self.vectors: dict[int, list[float]] = {}
        self.failed: dict[int, str] = {}


def tidy(db: Any) -> int:
    """Drop queue rows whose item is gone or has no text (left by older versions); returns how many."""
    return int(
        db.execute(
            "DELETE FROM pending_embeddings WHERE item_rowid NOT IN "
            "(SELECT rowid FROM items WHERE text IS NOT NULL)"
        ).rowcount
    )


def embed_priority(namespace: str, tags: Sequence[str]) -> int:
    """The queue class of an item (see the module doc): 0 first, `BACKGROUND` last."""
    if BACKGROUND_TAG in tags:
        return BACKGROUND
    return 1 if namespace.startswith("raw.") else 0


def due(db: Any, now: float, batch: int, background: bool = True) -> Queued:
    """Up to `batch` queued items with text whose retry time has come, class by class (see the
    module doc); class `BACKGROUND` only with `background`."""
    found: Queued = []
    for priority, order in SERVED:
        if len(found) >= batch or (priority == BACKGROUND and not background):
            break
        rows = db.execute(
            "SELECT i.rowid, i.text FROM pending_embeddings p JOIN items i ON i.rowid = p.item_rowid "
            f"WHERE p.priority = ? AND p.not_before <= ? AND i.text IS NOT NULL ORDER BY p.queued_at {order} "
            "LIMIT ?",
            (priority, now, batch - len(found)),
        ).fetchall()
        found += [(int(rowid), text) for rowid, text in rows]
    return found


def embed_round(embedder: Embedder, queued: Queued) -> Round:
    """Embed the queued texts; raises only when the embedder itself is broken (see the module doc)."""
    result = Round()
    try:
        result.vectors = dict(
            zip([r for r, _ in queued], _embed(embedder, [t for _, t in queued]), strict=True)
        )
        return result
    except Exception as exc:  # some input, or the embedder: find out item by item
        if len(queued) == 1:
            result.failed[queued[0][0]] = _describe(exc)
    if len(queued) > 1:
        for rowid, text in queued:
            try:
                result.vectors[rowid] = _embed(embedder, [text])[0]
            except Exception as exc:  # whatever the embedder raises is this item's reason
                result.failed[rowid] = _describe(exc)
    if not result.vectors:
        _embed(embedder, [PROBE])  # fails too: the embedder is down, and the error goes up untouched
    return result


def _embed(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    vectors = embedder.embed_documents(texts)
    if len(vectors) != len(texts):
        raise ValueError(f"the embedder returned {len(vectors)} vectors for {len(texts)} texts")
    for vector in vectors:
        if len(vector) != embedder.dimension or not all(math.isfinite(x) for x in vector):
            raise ValueError(f"the embedder returned a vector that is not {embedder.dimension} finite floats")
    return vectors


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def record(db: Any, queued: Queued, result: Round, now: float) -> int:
    """Store the round's vectors and failures for items whose text did not change meanwhile;
    returns how many items left the queue for good as failed."""
    given_up = 0
    for rowid, text in queued:
        current = db.execute("SELECT namespace, id, text FROM items WHERE rowid = ?", (rowid,)).fetchone()
        if current is None or current[2] != text:
            continue  # deleted (the trigger dequeued it) or changed: the new text is still queued
        if rowid in result.vectors:
            search.put_vector(db, rowid, sqlite_vec.serialize_float32(result.vectors[rowid]))
            db.execute("DELETE FROM pending_embeddings WHERE item_rowid = ?", (rowid,))
        elif rowid in result.failed:
            given_up += _postpone(db, rowid, f"{current[0]}/{current[1]}", result.failed[rowid], now)
    return given_up


def _postpone(db: Any, rowid: int, name: str, reason: str, now: float) -> int:
    attempts = db.execute(
        "UPDATE pending_embeddings SET attempts = attempts + 1, not_before = ? + ? * (1 << (2 * attempts)) "
        "WHERE item_rowid = ? RETURNING attempts",
        (now, RETRY_SECONDS, rowid),
    ).fetchone()[0]
    if attempts < MAX_ATTEMPTS:
        logger.warning("embedding %s failed (%s); retrying it later, alone", name, reason)
        return 0
    db.execute("DELETE FROM pending_embeddings WHERE item_rowid = ?", (rowid,))
    db.execute(
        "INSERT OR REPLACE INTO embedding_failures (item_rowid, reason, failed_at) VALUES (?, ?, ?)",
        (rowid, reason, now),
    )
    logger.warning(
        "embedding %s failed %d times (%s); it stays out of semantic search", name, attempts, reason
    )
    return 1


def failures(db: Any) -> list[tuple[str, str, str]]:
    """(namespace, id, reason) of every item whose embedding was given up."""
    rows = db.execute(
        "SELECT i.namespace, i.id, f.reason FROM embedding_failures f JOIN items i ON i.rowid = f.item_rowid "
        "ORDER BY f.failed_at"
    ).fetchall()
    return [(namespace, item_id, reason) for namespace, item_id, reason in rows]
