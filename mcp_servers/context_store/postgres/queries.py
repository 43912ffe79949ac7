"""SQL for the PostgreSQL backend's reads: item filters, lexical/semantic/hybrid search, the log.

Namespace globs become `LIKE` patterns (`*` → `%`, `?` → `_`, a literal `_` escaped), which match
like `fnmatch.fnmatchcase` on the namespace alphabet. Lexical search ORs the query's words as
`plainto_tsquery('simple', word)` terms against the `tsv` column (NULL for unindexed namespaces,
see `words`) and ranks by `ts_rank_cd`. Semantic search keeps top-k true under filters as the SQLite backend does: an HNSW
KNN over-fetches (k = 2 x limit, 16 x limit under filters, `hnsw.ef_search` raised to k), drops
the rows the filters reject and widens k fourfold up to 1,000 (pgvector's largest `ef_search`);
past that, or when the scan returned fewer than k rows (an HNSW scan may end early, so that does not
prove the vectors ran out), an exact cosine ranking of the filtered items. Hybrid fuses both with the same weighted
reciprocal-rank fusion (`search.fuse`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pgvector import Vector

from ..models import Event, EventPage, check_glob, exact_and_globs, from_epoch, to_epoch
from ..search import HALF_MICROSECOND, LEXICAL_WEIGHT, WORD, Ranked, fuse

__all__ = ["COLUMNS", "item_filter", "read_events", "run_search"]

COLUMNS = (
    "items.namespace, items.id, items.data, items.text, items.tags, items.metadata, "
    "items.created_at, items.updated_at, items.expires_at"
)
MAX_K = 1000  # pgvector's largest hnsw.ef_search: an HNSW scan returns at most ef_search rows


def like(pattern: str) -> str:
    """The LIKE pattern that matches what the namespace glob `pattern` matches."""
    return check_glob(pattern).replace("_", "\\_").replace("*", "%").replace("?", "_")


def glob_clause(column: str, patterns: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL matching `column` against any of the namespace globs, the names without a wildcard by
    equality (`models.exact_and_globs`), so that even a generic plan reads the namespace index in
    order."""
    exact, globs = exact_and_globs(patterns)
    terms, values = [f"{column} LIKE %s" for _ in globs], [like(p) for p in globs]
    if len(exact) == 1:
        terms.insert(0, f"{column} = %s")
        values.insert(0, exact[0])
    elif exact:
        terms.insert(0, f"{column} = ANY(%s)")
        values.insert(0, exact)
    return "(" + " OR ".join(terms) + ")", values


def item_filter(
    namespaces: Sequence[str], tags: Sequence[str], since: datetime | None, until: datetime | None, now: float
) -> tuple[str, list[Any]]:
    """A WHERE clause over `items` for live items matching every given filter."""
    clauses, params = ["(items.expires_at IS NULL OR items.expires_at > %s)"], [now]
    if namespaces:
        clause, values = glob_clause("items.namespace", namespaces)
        clauses.append(clause)
        params += values
    if tags:
        clauses.append("items.tags @> %s::text[]")
        params.append(list(tags))
    if since is not None:
        clauses.append("items.updated_at >= %s")
        params.append(to_epoch(since) - HALF_MICROSECOND)
    if until is not None:
        clauses.append("items.updated_at < %s")
        params.append(to_epoch(until) - HALF_MICROSECOND)
    return " AND ".join(clauses), params


async def run_search(
    db: Any,
    mode: str,
    text: str,
    vector: list[float] | None,
    where: str,
    params: list[Any],
    limit: int,
    unindexed: Sequence[str] = (),
) -> Ranked:
    """`unindexed`: namespaces the lexical ranking leaves out (semantic still covers them)."""
    if unindexed:
        lexical_where, lexical_params = (
            f"{where} AND NOT (items.namespace = ANY(%s))",
            [*params, list(unindexed)],
        )
    else:
        lexical_where, lexical_params = where, params
    if mode == "lexical":
        return await lexical(db, text, lexical_where, lexical_params, limit)
    assert vector is not None
    filtered = len(params) > 1  # the first parameter is the expiry cut-off every search has
    if mode == "semantic":
        return await semantic(db, Vector(vector), where, params, limit, filtered)
    depth = min(MAX_K, limit * 4)
    rankings = [
        (await lexical(db, text, lexical_where, lexical_params, depth), LEXICAL_WEIGHT),
        (await semantic(db, Vector(vector), where, params, depth, filtered), 1.0),
    ]
    return fuse(rankings, limit)


async def lexical(db: Any, text: str, where: str, params: list[Any], limit: int) -> Ranked:
    words = list(dict.fromkeys(word.lower() for word in WORD.findall(text)))
    if not words:
        return []
    query = " || ".join("plainto_tsquery('simple', %s)" for _ in words)
    cursor = await db.execute(
        f"SELECT {COLUMNS}, ts_rank_cd(items.tsv, q.query) AS rank FROM items, (SELECT {query} AS query) q "
        f"WHERE items.tsv @@ q.query AND {where} ORDER BY rank DESC, items.rowid LIMIT %s",
        [*words, *params, limit],
    )
    return [(tuple(row[:-1]), float(row[-1])) for row in await cursor.fetchall()]


async def semantic(
    db: Any, vector: Vector, where: str, params: list[Any], limit: int, filtered: bool
) -> Ranked:
    k = min(MAX_K, limit * (16 if filtered else 2))
    while True:
        await db.execute(f"SET LOCAL hnsw.ef_search = {int(max(k, 40))}")
        nearest = await (
            await db.execute(
                "SELECT item_rowid, embedding <=> %s FROM items_vec ORDER BY embedding <=> %s LIMIT %s",
                (vector, vector, k),
            )
        ).fetchall()
        distance = dict(nearest)
        rows = await (
            await db.execute(
                f"SELECT {COLUMNS}, items.rowid FROM items WHERE items.rowid = ANY(%s) AND {where}",
                [list(distance), *params],
            )
        ).fetchall()
        if len(rows) >= limit:
            ranked = sorted(rows, key=lambda row: distance[row[-1]])[:limit]
            return [(tuple(row[:-1]), 1.0 - float(distance[row[-1]])) for row in ranked]
        # Fewer than k rows need not mean fewer vectors: an HNSW scan may end early; only exact is sure.
        if k == MAX_K or len(nearest) < k:
            return await exact(db, vector, where, params, limit)
        k = min(MAX_K, k * 4)


async def exact(db: Any, vector: Vector, where: str, params: list[Any], limit: int) -> Ranked:
    """Exact cosine ranking of the filtered items (no index): for filters too selective for the KNN."""
    await db.execute("SET LOCAL enable_indexscan = off")
    rows = await (
        await db.execute(
            f"SELECT {COLUMNS}, items_vec.embedding <=> %s AS distance FROM items "
            f"JOIN items_vec ON items_vec.item_rowid = items.rowid WHERE {where} ORDER BY distance LIMIT %s",
            [vector, *params, limit],
        )
    ).fetchall()
    return [(tuple(row[:-1]), 1.0 - float(row[-1])) for row in rows]


async def read_events(db: Any, after: int, namespaces: Sequence[str], limit: int) -> EventPage:
    """Up to `limit` events after `after` whose namespace matches any glob, in one snapshot."""
    where, params = "seq > %s", [after]
    if namespaces:
        clause, values = glob_clause("namespace", namespaces)
        where, params = f"{where} AND {clause}", [*params, *values]
    rows = await (
        await db.execute(
            f"SELECT seq, namespace, id, op, at FROM events WHERE {where} ORDER BY seq LIMIT %s",
            [*params, limit + 1],
        )
    ).fetchall()
    oldest, last = await (
        await db.execute("SELECT (SELECT min(seq) FROM events), (SELECT last FROM log_head)")
    ).fetchone()
    gap = after + 1 < oldest if oldest is not None else after < last
    events = [Event(seq=s, namespace=n, id=i, op=o, at=from_epoch(a)) for s, n, i, o, a in rows[:limit]]
    next_after = events[-1].seq if events else max(after, last)
    return EventPage(events=events, next_after=next_after, has_more=len(rows) > limit, gap=gap)
