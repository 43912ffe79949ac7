"""The store's SQLite tables, and turning their rows back into models (times as UTC epoch seconds)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from .models import Delivery, Notification, Reminder

__all__ = ["SCHEMA", "from_epoch", "notification_from", "reminder_from", "to_epoch"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL, body TEXT NOT NULL, priority TEXT NOT NULL, source TEXT NOT NULL,
    links TEXT NOT NULL, dedupe_key TEXT, dedupe_count INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, deliver_at REAL NOT NULL, read_at REAL,
    reminder_id TEXT, late INTEGER NOT NULL DEFAULT 0, due_at REAL, kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_dedupe ON notifications (dedupe_key, created_at);
CREATE INDEX IF NOT EXISTS notifications_source ON notifications (source, created_at);
CREATE INDEX IF NOT EXISTS notifications_deliver ON notifications (deliver_at);
CREATE TABLE IF NOT EXISTS deliveries (
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL, last_error TEXT, delivered_at REAL,
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS reminders (
    id TEXT PRIMARY KEY, message TEXT NOT NULL, priority TEXT NOT NULL, timezone TEXT NOT NULL,
    repeat TEXT, anchor REAL NOT NULL, next_fire_at REAL, status TEXT NOT NULL,
    created_at REAL NOT NULL, fire_count INTEGER NOT NULL DEFAULT 0, last_fired_at REAL,
    kind TEXT NOT NULL DEFAULT 'reminder', channels TEXT
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (status, next_fire_at);
"""


def to_epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def notification_from(row: sqlite3.Row, deliveries: Sequence[sqlite3.Row]) -> Notification:
    return Notification(
        id=row["id"], title=row["title"], body=row["body"], priority=row["priority"], source=row["source"],
        links=json.loads(row["links"]), dedupe_key=row["dedupe_key"], dedupe_count=row["dedupe_count"],
        created_at=from_epoch(row["created_at"]), deliver_at=from_epoch(row["deliver_at"]), read_at=from_epoch(row["read_at"]),
        reminder_id=row["reminder_id"], late=bool(row["late"]), due_at=from_epoch(row["due_at"]), kind=row["kind"],
        deliveries=[
            Delivery(
                channel=d["channel"], status=d["status"], attempts=d["attempts"],
                next_attempt_at=from_epoch(d["next_attempt_at"]), last_error=d["last_error"],
                delivered_at=from_epoch(d["delivered_at"]),
            )
            for d in deliveries
        ],
    )  # fmt: skip


def reminder_from(row: sqlite3.Row) -> Reminder:
    return Reminder(
        id=row["id"], message=row["message"], priority=row["priority"], timezone=row["timezone"],
        repeat=row["repeat"], next_fire_at=from_epoch(row["next_fire_at"]), status=row["status"],
        created_at=from_epoch(row["created_at"]), fire_count=row["fire_count"], last_fired_at=from_epoch(row["last_fired_at"]),
        kind=row["kind"],
    )  # fmt: skip
