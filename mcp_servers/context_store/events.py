"""The event log: reading it after a cursor, consumer cursors, and the retention rule.

Every item write appends one event in the same transaction (see `store.py`), so the log and the
items always agree. Retention (run by the maintenance task): an event may be deleted when it is
older than `max_age_days` OR beyond the newest `max_events`, AND it is at or below the cursor of
every *live* consumer (one that acked within `consumer_live_days`). A consumer that has not acked
for longer than that is presumed gone and no longer holds the log back; if it returns, its page
carries `gap=True` so that it knows to resynchronise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Event, EventPage, from_epoch, namespace_clause

__all__ = ["Retention", "ack", "compact", "cursor_of", "read_events"]

DAY = 86_400.0


@dataclass(frozen=True)
class Retention:
    """The knobs of the retention rule (see the module docstring)."""

    max_age_days: float = 7.0
    max_events: int = 1_000_000
    consumer_live_days: float = 30.0


def append(connection: Any, namespace: str, item_id: str, op: str, at: float) -> int:
    cursor = connection.execute(
        "INSERT INTO events (namespace, id, op, at) VALUES (?, ?, ?, ?)", (namespace, item_id, op, at)
    )
    return int(cursor.lastrowid)


def next_seq(connection: Any) -> int:
    """The seq the next appended event gets (AUTOINCREMENT never reuses one, even after compaction)."""
    row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return (int(row[0]) if row else 0) + 1


def last_seq(connection: Any) -> int:
    return int(connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


def read_events(connection: Any, after: int, namespaces: list[str] | None, limit: int) -> EventPage:
    """Up to `limit` events with seq > `after` whose namespace matches any glob (all when None)."""
    where, params = "seq > ?", [after]
    if namespaces:
        clause, names = namespace_clause("namespace", namespaces)
        where += " AND " + clause
        params += names
    rows = connection.execute(
        f"SELECT seq, namespace, id, op, at FROM events WHERE {where} ORDER BY seq LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    oldest = connection.execute("SELECT min(seq) FROM events").fetchone()[0]
    compacted_after = _compacted_beyond(connection, after, oldest)
    events = [Event(seq=s, namespace=n, id=i, op=o, at=from_epoch(a)) for s, n, i, o, a in rows[:limit]]
    # With no match at all, the cursor may skip to the log's end: nothing up there matched.
    next_after = events[-1].seq if events else max(after, last_seq(connection))
    return EventPage(events=events, next_after=next_after, has_more=len(rows) > limit, gap=compacted_after)


def _compacted_beyond(connection: Any, after: int, oldest: int | None) -> bool:
    """True when events with seq > `after` existed and were compacted away."""
    if oldest is not None:
        return after + 1 < oldest
    # An empty log: anything ever written (sqlite_sequence) beyond `after` is gone.
    row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return row is not None and after < int(row[0])


def ack(connection: Any, consumer: str, seq: int, now: float) -> int:
    """Move `consumer`'s cursor forward to `seq` (never backwards); returns the cursor now held."""
    connection.execute(
        "INSERT INTO consumers (name, seq, acked_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET seq = max(consumers.seq, excluded.seq), acked_at = excluded.acked_at",
        (consumer, seq, now),
    )
    return cursor_of(connection, consumer)


def cursor_of(connection: Any, consumer: str) -> int:
    row = connection.execute("SELECT seq FROM consumers WHERE name = ?", (consumer,)).fetchone()
    return int(row[0]) if row else 0


def compact(connection: Any, retention: Retention, now: float) -> int:
    """Delete the events the retention rule allows to go; returns how many were deleted."""
    by_age = connection.execute(
        "SELECT coalesce(max(seq), 0) FROM events WHERE at < ?", (now - retention.max_age_days * DAY,)
    ).fetchone()[0]
    by_count = max(0, last_seq(connection) - retention.max_events)
    limit = max(by_age, by_count)
    live_floor = connection.execute(
        "SELECT min(seq) FROM consumers WHERE acked_at >= ?", (now - retention.consumer_live_days * DAY,)
    ).fetchone()[0]
    if live_floor is not None:
        limit = min(limit, int(live_floor))
    if limit <= 0:
        return 0
    return int(connection.execute("DELETE FROM events WHERE seq <= ?", (limit,)).rowcount)
