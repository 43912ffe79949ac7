"""The SQLite index and change journal behind the local providers' `list_changes`.

The journal is append-only: each observed change gets the next `seq`, and a cursor is
`<journal id>:<seq>`, so a reader that passes back the cursor it was given sees every later change
exactly once, across restarts. Entries written by a first indexing are marked `backlog`: a reader
still working through them can ask for the others alone (`live=True`: new mail, moves, flag changes),
so that what happens now is not queued behind years of old mail. A cursor from another journal (a deleted or rebuilt index) is refused
with `CursorError`, telling the reader to resync from the beginning. The index keeps one row per
message (where it is stored, its flags, and the fields search needs). All methods are blocking and
meant to run in a worker thread under the owner's lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .models import Change, ChangePage, Message
from .provider import CursorError
from .search_index import SearchFields, forget, migrate, set_labels, write_fields
from .search_sql import SearchPlan

__all__ = ["IndexRow", "Journal", "Location"]

Location = tuple[str, str, str]  # where a message is stored: (folder, flags, path)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, message_id TEXT NOT NULL,
    labels TEXT NOT NULL, error TEXT, backlog INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, folder TEXT NOT NULL, path TEXT NOT NULL, flags TEXT NOT NULL,
    extra_labels TEXT NOT NULL DEFAULT '[]', thread_id TEXT NOT NULL, date REAL NOT NULL,
    summary TEXT NOT NULL, search_text TEXT NOT NULL, has_attachment INTEGER NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS messages_thread ON messages(thread_id);
"""
# The columns of `IndexRow`, in order (schema 2 added more after them: see `search_index`).
_COLUMNS = (
    "id, folder, path, flags, extra_labels, thread_id, date, summary, search_text, has_attachment, error"
)


@dataclass
class IndexRow:
    """What the index knows about one stored message."""

    id: str
    folder: str
    path: str
    flags: str
    extra_labels: list[str]
    thread_id: str
    date: float
    summary: dict
    search_text: str
    has_attachment: bool
    error: str | None
    fields: SearchFields | None = None  # set when freshly parsed; rows read back leave the index's as is

    @classmethod
    def of_message(cls, message: Message, folder: str, path: str, flags: str) -> IndexRow:
        """The index row of a parsed message: its summary and the text search looks at."""
        summary = message.model_dump(
            mode="json", include={"id", "thread_id", "from_", "subject", "date", "snippet"}
        )
        summary["has_attachment"] = bool(message.attachments)
        return cls(
            message.id, folder, path, flags, [], message.thread_id, message.date.timestamp(), summary,
            "", bool(message.attachments), None, SearchFields.of(message),
        )  # fmt: skip

    @classmethod
    def of_error(cls, id: str, folder: str, path: str, flags: str, date: float, reason: str) -> IndexRow:
        """The index row of a message that could not be parsed: kept, journalled, never searched."""
        return cls(id, folder, path, flags, [], f"id:{id}", date, {}, "", False, reason)


class Journal:
    """One SQLite file: the message index and the append-only change journal."""

    def __init__(self, path: Path, busy_seconds: float = 5.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=busy_seconds, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        migrate(self._db)
        _add_backlog_column(self._db)
        self._upgraded = False
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('journal_id', ?)", (uuid.uuid4().hex[:12],))
        self.journal_id = self._db.execute("SELECT value FROM meta WHERE key='journal_id'").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back when it raises (or its
        COMMIT fails, a full disk for instance), so that an index row never lands without its journal
        entry and the connection is never left inside a transaction."""
        self.begin()
        try:
            yield
            self.commit()
        except BaseException:
            if self._db.in_transaction:
                self._db.rollback()
            raise

    def meta(self, key: str) -> str | None:
        found = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return found[0] if found else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def rows(self, folder: str | None = None) -> dict[str, IndexRow]:
        """Every indexed message by id, or those of one `folder`."""
        where, parameters = ("WHERE folder=?", (folder,)) if folder is not None else ("", ())
        cursor = self._db.execute(f"SELECT {_COLUMNS} FROM messages {where}", parameters)
        return {row[0]: _row(row) for row in cursor}

    def paths(self, folder: str) -> dict[str, str]:
        """Path → id of the messages indexed in `folder` (without reading summaries or text)."""
        return dict(self._db.execute("SELECT path, id FROM messages WHERE folder=?", (folder,)))

    def locations(self) -> dict[str, Location]:
        """Where each indexed message is stored, by id (without reading summaries or text)."""
        cursor = self._db.execute("SELECT id, folder, flags, path FROM messages")
        return {id: (folder, flags, path) for id, folder, flags, path in cursor}

    def locations_of(self, ids: Sequence[str]) -> dict[str, Location]:
        """Where each of `ids` that is indexed is stored (the others are left out)."""
        found: dict[str, Location] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            cursor = self._db.execute(
                f"SELECT id, folder, flags, path FROM messages WHERE id IN ({marks})", chunk
            )
            found.update({id: (folder, flags, path) for id, folder, flags, path in cursor})
        return found

    def ids_under(self, directory: str) -> set[str]:
        """The indexed messages whose file is directly in `directory` (a folder's `new/`, say)."""
        prefix = directory.rstrip(os.sep) + os.sep
        cursor = self._db.execute(
            "SELECT id, path FROM messages WHERE substr(path, 1, ?) = ?", (len(prefix), prefix)
        )
        return {id for id, path in cursor if os.sep not in path[len(prefix) :]}

    def row(self, id: str) -> IndexRow | None:
        found = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id=?", (id,)).fetchone()
        return _row(found) if found else None

    def thread_rows(self, thread_id: str) -> list[IndexRow]:
        cursor = self._db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE thread_id=? ORDER BY date", (thread_id,)
        )
        return [_row(row) for row in cursor]

    def upsert(self, row: IndexRow) -> None:
        """Store the row; its search fields too when it carries them (a freshly parsed message)."""
        self._db.execute(
            f"INSERT INTO messages ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
            "folder=excluded.folder, path=excluded.path, flags=excluded.flags, extra_labels=excluded.extra_labels, "
            "thread_id=excluded.thread_id, date=excluded.date, summary=excluded.summary, "
            "search_text=excluded.search_text, has_attachment=excluded.has_attachment, error=excluded.error",
            (row.id, row.folder, row.path, row.flags, json.dumps(row.extra_labels), row.thread_id, row.date,
             json.dumps(row.summary), row.search_text, int(row.has_attachment), row.error),
        )  # fmt: skip
        if row.fields is not None:
            write_fields(self._db, row.id, row.fields)

    def reindex(self, id: str, fields: SearchFields) -> None:
        """Replace the search fields of message `id` (a row migrated from schema 1, re-read)."""
        write_fields(self._db, id, fields)

    def legacy_rows(self) -> list[IndexRow]:
        """Rows migrated from schema 1 whose fields were not re-read yet (once none are left, none
        come back: new rows are written whole, so later searches skip the scan)."""
        if self._upgraded:
            return []
        cursor = self._db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE fields_version < 2 AND error IS NULL"
        )
        rows = [_row(row) for row in cursor]
        self._upgraded = not rows
        return rows

    def search(self, plan: SearchPlan) -> list[tuple[IndexRow, int]]:
        """One page of a planned search, newest first, each row with its key (one row more than
        the page when there is a next)."""
        sql, params = plan.statement(", ".join(f"m.{column}" for column in _COLUMNS.split(", ")))
        return [(_row(found[:-1]), found[-1]) for found in self._db.execute(sql, params)]

    def update(self, row: IndexRow, labels_before: list[str], labels_after: list[str]) -> None:
        """Store the row, and log `labels_changed` when its labels differ from before."""
        self.upsert(row)
        if labels_after != labels_before:
            self.append("labels_changed", row.id, labels_after)

    def thread_of(self, message_id: str) -> str | None:
        """The thread of the indexed message whose Message-ID header is `message_id` (<> optional)."""
        row = self._db.execute(
            "SELECT thread_id FROM messages WHERE message_id = ? LIMIT 1", (message_id.strip().strip("<>"),)
        ).fetchone()
        return str(row[0]) if row else None

    def delete(self, id: str) -> None:
        forget(self._db, id)
        self._db.execute("DELETE FROM messages WHERE id=?", (id,))

    def append(
        self,
        kind: str,
        message_id: str,
        labels: list[str],
        error: str | None = None,
        *,
        backlog: bool = False,
    ) -> None:
        """Log a change; `backlog` marks one found by a first indexing rather than seen happen."""
        self._db.execute(
            "INSERT INTO changes (kind, message_id, labels, error, backlog) VALUES (?,?,?,?,?)",
            (kind, message_id, json.dumps(labels), error, int(backlog)),
        )
        set_labels(
            self._db, message_id, [] if kind == "deleted" else labels
        )  # search sees what the feed says

    def newest_date(self) -> float | None:
        """The date of the newest message indexed (epoch seconds), None when there is none."""
        return self._db.execute("SELECT MAX(date) FROM messages WHERE error IS NULL").fetchone()[0]

    def count(self) -> int:
        """How many messages are indexed."""
        return self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]

    def last_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]

    def cursor(self, seq: int) -> str:
        return f"{self.journal_id}:{seq}"

    def parse_cursor(self, cursor: str | None) -> int:
        if not cursor:
            return 0
        journal_id, _, seq = cursor.partition(":")
        if not seq.isdigit():
            raise CursorError(f"cursor {cursor!r} is malformed: pass a cursor returned by list_changes")
        if journal_id != self.journal_id:
            raise CursorError(
                f"cursor {cursor!r} belongs to another change journal (the index was rebuilt): "
                "call list_changes without since to resync from the beginning"
            )
        return int(seq)

    def changes(self, since: str | None, limit: int, *, live: bool = False) -> ChangePage:
        """The changes after cursor `since`, oldest first; with `live`, only those not from a first
        indexing (their cursor skips the backlog entries, so it only serves further live reads)."""
        after = self.parse_cursor(since)
        only_live = "AND backlog = 0" if live else ""
        found = self._db.execute(
            f"SELECT seq, kind, message_id, labels, error FROM changes WHERE seq > ? {only_live} "
            "ORDER BY seq LIMIT ?",
            (after, limit + 1),
        ).fetchall()
        page = [
            Change(seq=seq, kind=kind, message_id=mid, labels=json.loads(labels), error=error)
            for seq, kind, mid, labels, error in found[:limit]
        ]
        last = page[-1].seq if page else max(after, 0)
        pending = (
            self._db.execute(
                "SELECT count(*) FROM changes WHERE seq > ? AND backlog = 0", (last,)
            ).fetchone()[0]
            if live
            else max(self.last_seq() - last, 0)  # seqs are dense: nothing is ever removed from the log
        )
        return ChangePage(
            changes=page, cursor=self.cursor(last), has_more=len(found) > limit, pending=pending
        )


def _add_backlog_column(db: sqlite3.Connection) -> None:
    """Journals from before the `backlog` mark get it (every old entry counts as live); the partial
    index keeps a live read from walking the backlog entries."""
    if "backlog" not in {row[1] for row in db.execute("PRAGMA table_info(changes)")}:
        db.execute("ALTER TABLE changes ADD COLUMN backlog INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX IF NOT EXISTS changes_live ON changes(seq) WHERE backlog = 0")


def _row(values: tuple) -> IndexRow:
    id, folder, path, flags, extra, thread_id, date, summary, search_text, has_attachment, error = values
    return IndexRow(
        id, folder, path, flags, json.loads(extra), thread_id, date, json.loads(summary), search_text,
        bool(has_attachment), error,
    )  # fmt: skip
