"""The notify server's SQLite store: notifications, their per-channel deliveries, and reminders.

Plain synchronous methods, serialised by one lock and run off the event loop by the engine. Every
change that must happen together (a notification and its delivery rows; a reminder firing and the
notification it produces; a dedupe hit and its count) is one `BEGIN IMMEDIATE` transaction, which is
why a SIGKILL can lose neither half and a reminder can never fire twice. The deliveries table is the
durable outbox: a row stays `pending` until its channel confirms. Times are stored as UTC epoch
seconds. Every statement runs inside `errors.translated`: a full disk, a read-only file, a lock held
too long or a corrupt file raises a `StorageError` that says so (and a failed transaction is rolled
back, so nothing of it is stored).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import check_writable, translated
from .models import Channel, Delivery, Notification, Priority, Reminder
from .schema import SCHEMA, from_epoch, notification_from, reminder_from, to_epoch

__all__ = ["NewNotification", "NewReminder", "RateLimited", "Store"]


class RateLimited(Exception):
    """A source sent more than its share; `retry_after` seconds until it may send again."""

    def __init__(self, source: str, limit: int, retry_after: float) -> None:
        super().__init__(f"source {source!r} exceeded {limit} notifications per minute")
        self.source, self.limit, self.retry_after = source, limit, retry_after


@dataclass(frozen=True)
class NewNotification:
    title: str
    body: str
    priority: Priority
    source: str
    links: Sequence[str] = ()
    dedupe_key: str | None = None
    deliver_at: datetime | None = None
    reminder_id: str | None = None
    late: bool = False
    due_at: datetime | None = None
    kind: str = "notification"


@dataclass(frozen=True)
class NewReminder:
    message: str
    priority: Priority
    timezone: str
    first_fire_at: datetime
    repeat: str | None = None
    kind: str = "reminder"
    channels: Sequence[Channel] | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class Store:
    """One SQLite database file in WAL mode, shared by the engine's threads under a lock."""

    def __init__(self, path: Path, busy_timeout_ms: int = 5000) -> None:
        """Open (or create) the database at `path`; a `StorageError` says why it cannot be used."""
        check_writable(path)
        self.path = path
        self._lock = threading.Lock()
        with translated(path):
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            try:
                self._prepare(busy_timeout_ms)
            except BaseException:
                self._db.close()
                raise

    def _prepare(self, busy_timeout_ms: int) -> None:
        self._db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        self._db.executescript(SCHEMA)
        # Deliveries in flight when the process died are retried: the outbox is at-least-once.
        with self._transaction() as db:
            db.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, alone, with SQLite's errors translated (the store's one boundary)."""
        with self._lock, translated(self.path):
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # SQLite ends the transaction itself on some errors (SQLITE_FULL): a ROLLBACK then
                # fails with "no transaction is active" and would hide the error that matters.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._locked() as db:
            return db.execute(sql, args).fetchall()

    # notifications -------------------------------------------------------------------------------

    def add_notification(
        self,
        new: NewNotification,
        channels: Sequence[Channel],
        now: datetime,
        dedupe_window: float,
        rate_limit: int | None,
    ) -> tuple[Notification, bool]:
        """Insert `new` with a delivery row per channel, or count it against a recent duplicate."""
        [result] = self.add_notifications([new], channels, now, dedupe_window, rate_limit)
        if isinstance(result, RateLimited):
            raise result
        return result

    def add_notifications(
        self,
        news: Sequence[NewNotification],
        channels: Sequence[Channel],
        now: datetime,
        dedupe_window: float,
        rate_limit: int | None,
    ) -> list[tuple[Notification, bool] | RateLimited]:
        """`add_notification` for many in one transaction; a rate-limited one is reported, not raised."""
        with self._transaction() as db:
            return [self._add(db, new, channels, now, dedupe_window, rate_limit) for new in news]

    def _add(
        self,
        db: sqlite3.Connection,
        new: NewNotification,
        channels: Sequence[Channel],
        now: datetime,
        dedupe_window: float,
        rate_limit: int | None,
    ) -> tuple[Notification, bool] | RateLimited:
        if new.dedupe_key is not None:
            row = db.execute(
                "SELECT id FROM notifications WHERE dedupe_key = ? AND created_at > ? ORDER BY created_at DESC LIMIT 1",
                (new.dedupe_key, now.timestamp() - dedupe_window),
            ).fetchone()
            if row is not None:
                db.execute("UPDATE notifications SET dedupe_count = dedupe_count + 1 WHERE id = ?", (row[0],))
                return self._notification(db, row[0]), True
        if rate_limit is not None:
            # The limit-th most recent notification of this source: within the minute means full.
            row = db.execute(
                "SELECT created_at FROM notifications WHERE source = ? AND kind = 'notification' "
                "ORDER BY created_at DESC LIMIT 1 OFFSET ?",
                (new.source, rate_limit - 1),
            ).fetchone()
            if row is not None and row[0] > now.timestamp() - 60.0:
                return RateLimited(new.source, rate_limit, row[0] + 60.0 - now.timestamp())
        return self._insert(db, new, channels, now), False

    def _insert(
        self, db: sqlite3.Connection, new: NewNotification, channels: Sequence[Channel], now: datetime
    ) -> Notification:
        notification_id = new_id("n")
        deliver_at = new.deliver_at or now
        db.execute(
            "INSERT INTO notifications (id, title, body, priority, source, links, dedupe_key, created_at, "
            "deliver_at, reminder_id, late, due_at, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                notification_id, new.title, new.body, new.priority, new.source, json.dumps(list(new.links)),
                new.dedupe_key, now.timestamp(), deliver_at.timestamp(), new.reminder_id, int(new.late),
                to_epoch(new.due_at), new.kind,
            ),
        )  # fmt: skip
        # The inbox needs no sender: a notification that is not held is in the inbox once committed.
        inbox_now = deliver_at <= now
        deliveries = [
            Delivery(channel=channel, status="sent", attempts=1, delivered_at=now)
            if channel == "inbox" and inbox_now
            else Delivery(channel=channel, status="pending", next_attempt_at=deliver_at)
            for channel in channels
        ]
        db.executemany(
            "INSERT INTO deliveries (notification_id, channel, status, attempts, next_attempt_at, delivered_at) "
            "VALUES (?,?,?,?,?,?)",
            [
                (
                    notification_id,
                    d.channel,
                    d.status,
                    d.attempts,
                    to_epoch(d.next_attempt_at),
                    to_epoch(d.delivered_at),
                )
                for d in deliveries
            ],
        )
        return Notification(
            id=notification_id, title=new.title, body=new.body, priority=new.priority, source=new.source,
            links=list(new.links), dedupe_key=new.dedupe_key, created_at=now, deliver_at=deliver_at,
            reminder_id=new.reminder_id, late=new.late, due_at=new.due_at, kind=new.kind, deliveries=deliveries,
        )  # fmt: skip

    def _notification(self, db: sqlite3.Connection, notification_id: str) -> Notification:
        row = db.execute("SELECT * FROM notifications WHERE id = ?", (notification_id,)).fetchone()
        deliveries = db.execute(
            "SELECT * FROM deliveries WHERE notification_id = ? ORDER BY rowid", (notification_id,)
        ).fetchall()
        return notification_from(row, deliveries)

    def get_notification(self, notification_id: str) -> Notification | None:
        with self._locked() as db:
            exists = db.execute("SELECT 1 FROM notifications WHERE id = ?", (notification_id,)).fetchone()
            return self._notification(db, notification_id) if exists else None

    def list_notifications(
        self, now: datetime, unread_only: bool, since: datetime | None, limit: int
    ) -> list[Notification]:
        """Delivered notifications, newest first (held or snoozed ones are left out)."""
        sql = "SELECT id FROM notifications WHERE deliver_at <= ? AND created_at >= ?"
        if unread_only:
            sql += " AND read_at IS NULL"
        with self._locked() as db:
            ids = db.execute(
                sql + " ORDER BY deliver_at DESC, seq DESC LIMIT ?",
                (now.timestamp(), to_epoch(since) or 0.0, limit),
            ).fetchall()
            return [self._notification(db, row[0]) for row in ids]

    def counts(self, now: datetime) -> tuple[int, int]:
        """(unread delivered, held) notification counts."""
        row = self._read(
            "SELECT SUM(deliver_at <= ?1 AND read_at IS NULL), SUM(deliver_at > ?1) FROM notifications",
            (now.timestamp(),),
        )[0]
        return int(row[0] or 0), int(row[1] or 0)

    def mark_read(self, ids: Sequence[str] | None, now: datetime) -> tuple[int, list[str]]:
        """Mark `ids` (or every delivered notification) read; returns (count, unknown ids)."""
        with self._transaction() as db:
            if ids is None:
                cursor = db.execute(
                    "UPDATE notifications SET read_at = ? WHERE read_at IS NULL AND deliver_at <= ?",
                    (now.timestamp(), now.timestamp()),
                )
                return cursor.rowcount, []
            known = {r[0] for r in db.execute(_in("SELECT id FROM notifications WHERE id IN", ids), ids)}
            cursor = db.execute(
                _in("UPDATE notifications SET read_at = ? WHERE read_at IS NULL AND id IN", ids),
                (now.timestamp(), *ids),
            )
            return cursor.rowcount, [i for i in ids if i not in known]

    def snooze_notification(self, notification_id: str, until: datetime) -> Notification | None:
        """Hide it until `until`, then deliver it again, unread, on every channel."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE notifications SET deliver_at = ?, read_at = NULL WHERE id = ?",
                (until.timestamp(), notification_id),
            )
            if cursor.rowcount == 0:
                return None
            db.execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                "last_error = NULL, delivered_at = NULL WHERE notification_id = ?",
                (until.timestamp(), notification_id),
            )
            return self._notification(db, notification_id)

    def unread_for_digest(self, now: datetime, limit: int) -> list[Notification]:
        with self._locked() as db:
            ids = db.execute(
                "SELECT id FROM notifications WHERE read_at IS NULL AND deliver_at <= ? AND kind != 'digest' "
                "ORDER BY deliver_at DESC LIMIT ?",
                (now.timestamp(), limit),
            ).fetchall()
            return [self._notification(db, row[0]) for row in ids]

    # the outbox ----------------------------------------------------------------------------------

    def claim_deliveries(self, now: datetime, limit: int) -> list[tuple[Notification, Delivery]]:
        """Pending deliveries that are due, switched to `sending` so no one else takes them."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT notification_id, channel FROM deliveries WHERE status = 'pending' "
                "AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                (now.timestamp(), limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET status = 'sending' WHERE notification_id = ? AND channel = ?",
                [tuple(row) for row in rows],
            )
            claimed = []
            for notification_id, channel in rows:
                notification = self._notification(db, notification_id)
                claimed.append(
                    (notification, next(d for d in notification.deliveries if d.channel == channel))
                )
            return claimed

    def record_delivery(
        self,
        notification_id: str,
        channel: Channel,
        now: datetime,
        error: str | None,
        retry_at: datetime | None,
    ) -> None:
        """Sent when `error` is None; else pending again at `retry_at`, or failed when that is None."""
        status = "sent" if error is None else ("pending" if retry_at is not None else "failed")
        with self._transaction() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, delivered_at = ? WHERE notification_id = ? AND channel = ?",
                (
                    status, error, to_epoch(retry_at), now.timestamp() if error is None else None,
                    notification_id, channel,
                ),
            )  # fmt: skip

    def next_delivery_at(self) -> datetime | None:
        row = self._read("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'")[0]
        return from_epoch(row[0])

    # reminders -----------------------------------------------------------------------------------

    def add_reminder(self, new: NewReminder, now: datetime) -> Reminder:
        reminder_id = new_id("d" if new.kind == "digest" else "r")
        with self._transaction() as db:
            if new.kind == "digest":  # one daily digest: a new schedule replaces the old one
                db.execute(
                    "UPDATE reminders SET status = 'cancelled' WHERE kind = 'digest' AND status = 'active'"
                )
            db.execute(
                "INSERT INTO reminders (id, message, priority, timezone, repeat, anchor, next_fire_at, status, "
                "created_at, kind, channels) VALUES (?,?,?,?,?,?,?,'active',?,?,?)",
                (
                    reminder_id, new.message, new.priority, new.timezone, new.repeat,
                    new.first_fire_at.timestamp(), new.first_fire_at.timestamp(), now.timestamp(), new.kind,
                    None if new.channels is None else json.dumps(list(new.channels)),
                ),
            )  # fmt: skip
            return reminder_from(
                db.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
            )

    def get_reminder(self, reminder_id: str) -> Reminder | None:
        rows = self._read("SELECT * FROM reminders WHERE id = ?", (reminder_id,))
        return reminder_from(rows[0]) if rows else None

    def reminder_details(self, reminder_id: str) -> tuple[Reminder, datetime, list[Channel] | None]:
        """The reminder, its anchor (first occurrence) and, for a digest, its channels."""
        row = self._read("SELECT * FROM reminders WHERE id = ?", (reminder_id,))[0]
        return (
            reminder_from(row),
            datetime.fromtimestamp(row["anchor"], UTC),
            json.loads(row["channels"]) if row["channels"] else None,
        )

    def list_reminders(self, include_finished: bool) -> list[Reminder]:
        sql = "SELECT * FROM reminders"
        if not include_finished:
            sql += " WHERE status = 'active'"
        return [
            reminder_from(row) for row in self._read(sql + " ORDER BY next_fire_at IS NULL, next_fire_at")
        ]

    def cancel_reminder(self, reminder_id: str) -> Reminder | None:
        with self._transaction() as db:
            db.execute(
                "UPDATE reminders SET status = 'cancelled', next_fire_at = NULL WHERE id = ?", (reminder_id,)
            )
            row = db.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
            return None if row is None else reminder_from(row)

    def reschedule_reminder(self, reminder_id: str, when: datetime) -> Reminder | None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE reminders SET next_fire_at = ? WHERE id = ? AND status = 'active'",
                (when.timestamp(), reminder_id),
            )
            if cursor.rowcount == 0:
                return None
            return reminder_from(
                db.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
            )

    def due_reminders(self, now: datetime) -> list[Reminder]:
        rows = self._read(
            "SELECT * FROM reminders WHERE status = 'active' AND next_fire_at <= ? ORDER BY next_fire_at",
            (now.timestamp(),),
        )
        return [reminder_from(row) for row in rows]

    def next_reminder_at(self) -> datetime | None:
        return from_epoch(self._read("SELECT MIN(next_fire_at) FROM reminders WHERE status = 'active'")[0][0])

    def fire_reminder(
        self,
        reminder: Reminder,
        new: NewNotification | None,
        channels: Sequence[Channel],
        now: datetime,
        following: datetime | None,
    ) -> Notification | None:
        """Advance `reminder` past its due time and insert `new`, once: a second caller finds nothing."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE reminders SET next_fire_at = ?, status = ?, fire_count = fire_count + ?, "
                "last_fired_at = ? WHERE id = ? AND status = 'active' AND next_fire_at = ?",
                (
                    to_epoch(following), "active" if following else "done", int(new is not None), now.timestamp(),
                    reminder.id, to_epoch(reminder.next_fire_at),
                ),
            )  # fmt: skip
            if cursor.rowcount == 0 or new is None:
                return None
            return self._insert(db, new, channels, now)


def _in(sql: str, ids: Sequence[str]) -> str:
    return f"{sql} ({','.join('?' * len(ids))})"
