"""The durable change log behind `list_changes(since=cursor)`: which event series appeared, changed or went.

The log compares each new snapshot of series fingerprints (a hash of every component of one UID)
with the last one it stored, and appends one row per difference, in the same SQLite transaction
that stores the new snapshot. A cursor is the seq of the last row a reader saw: rows come in seq
order, so a reader that keeps its cursor misses nothing and sees nothing twice, across restarts.
Only calendars present in a snapshot are compared: an unreadable file is not a mass deletion.
The file's own failures (disk full, read-only, locked, corrupt) become a `StorageError` in the
words every server uses (`mcp_servers.common.sqlite_errors`); a snapshot that could not be stored
is compared again at the next one, so no change is lost meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import anyio

from mcp_servers.calendar.errors import InvalidEventError, StorageError
from mcp_servers.calendar.event_ids import event_id
from mcp_servers.calendar.models import Change, ChangeList
from mcp_servers.calendar.provider import Fingerprint
from mcp_servers.common.sqlite_errors import translating, unwritable

__all__ = ["ChangeLog"]

Snapshot = dict[str, dict[str, Fingerprint]]
RELOCATE = "PEPPER_CALENDAR_STATE_DIR"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshot (
    calendar TEXT NOT NULL, uid TEXT NOT NULL, fingerprint TEXT NOT NULL, title TEXT,
    PRIMARY KEY (calendar, uid)
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, calendar TEXT NOT NULL,
    uid TEXT NOT NULL, title TEXT, at TEXT NOT NULL
);
"""


class ChangeLog:
    """A change log in one SQLite file; every method is safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if (reason := unwritable(path, RELOCATE)) is not None:
            raise StorageError(reason)
        with self._translated():
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        with translating(self.path, RELOCATE, lambda _, message: StorageError(message)):
            yield

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, snapshot: Snapshot) -> int:
        """Append a row for every series that differs from the stored snapshot; return how many."""
        now = datetime.now(UTC).isoformat()
        with self._lock, self._translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                count = sum(
                    self._record_calendar(calendar, series, now) for calendar, series in snapshot.items()
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT (a full disk) may have rolled back already
                    self._db.execute("ROLLBACK")
                raise
        return count

    def _record_calendar(self, calendar: str, series: dict[str, Fingerprint], now: str) -> int:
        rows = self._db.execute(
            "SELECT uid, fingerprint, title FROM snapshot WHERE calendar = ?", (calendar,)
        )
        stored = {uid: (fingerprint, title) for uid, fingerprint, title in rows}
        changes = [("deleted", uid, stored[uid][1]) for uid in sorted(stored.keys() - series.keys())]
        for uid in sorted(series):
            if uid not in stored:
                changes.append(("created", uid, series[uid][1]))
            elif stored[uid][0] != series[uid][0]:
                changes.append(("updated", uid, series[uid][1]))
        for op, uid, title in changes:
            self._db.execute(
                "INSERT INTO changes (op, calendar, uid, title, at) VALUES (?, ?, ?, ?, ?)",
                (op, calendar, uid, title, now),
            )
            if op == "deleted":
                self._db.execute("DELETE FROM snapshot WHERE calendar = ? AND uid = ?", (calendar, uid))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO snapshot VALUES (?, ?, ?, ?)", (calendar, uid, *series[uid])
                )
        return len(changes)

    def read(self, since: str | None, limit: int) -> ChangeList:
        """Changes after cursor `since` (all of them when None), at most `limit`."""
        with self._lock, self._translated():
            last = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]
            after = _parse_cursor(since, last)
            rows = self._db.execute(
                "SELECT seq, op, calendar, uid, title FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit + 1),
            ).fetchall()
        changes = [
            Change(seq=seq, op=op, event_id=event_id(calendar, uid), calendar=calendar, uid=uid, title=title)
            for seq, op, calendar, uid, title in rows[:limit]
        ]
        cursor = changes[-1].seq if changes else after
        return ChangeList(changes=changes, cursor=str(cursor), more=len(rows) > limit)

    async def record_async(self, snapshot: Snapshot) -> int:
        return await anyio.to_thread.run_sync(self.record, snapshot)

    async def read_async(self, since: str | None, limit: int) -> ChangeList:
        return await anyio.to_thread.run_sync(self.read, since, limit)


def _parse_cursor(since: str | None, last: int) -> int:
    if since is None or since == "":
        return 0
    if not since.isdigit():
        raise InvalidEventError(f"cursor {since!r} is not one list_changes gave; omit `since` to start over")
    value = int(since)
    if value > last:
        raise InvalidEventError(
            f"cursor {since} is ahead of this change log (last {last}): it comes from another one; "
            "omit `since` to start over"
        )
    return value
