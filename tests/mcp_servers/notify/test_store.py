"""The SQLite store: dedupe, rate limits, once-only reminder firing, and the outbox across reopen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mcp_servers.notify.store import NewNotification, NewReminder, RateLimited, Store

from .conftest import START


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store(db_path)
    yield opened
    opened.close()


def note(title: str = "t", source: str = "s", key: str | None = None) -> NewNotification:
    return NewNotification(title=title, body="b", priority="normal", source=source, dedupe_key=key)


def test_store_counts_duplicate_within_window_and_starts_anew_after(store: Store) -> None:
    first, dup = store.add_notification(note(key="k"), ["inbox"], START, 60.0, None)
    again, dup_again = store.add_notification(
        note(key="k"), ["inbox"], START + timedelta(seconds=30), 60.0, None
    )
    later, dup_later = store.add_notification(
        note(key="k"), ["inbox"], START + timedelta(seconds=120), 60.0, None
    )
    assert (dup, dup_again, dup_later) == (False, True, False)
    assert again.id == first.id and again.dedupe_count == 2
    assert later.id != first.id and later.dedupe_count == 1


def test_store_rate_limits_per_source_and_says_when_to_retry(store: Store) -> None:
    for i in range(3):
        store.add_notification(note(source="feed"), ["inbox"], START + timedelta(seconds=i), 60.0, 3)
    store.add_notification(note(source="other"), ["inbox"], START + timedelta(seconds=3), 60.0, 3)
    with pytest.raises(RateLimited) as raised:
        store.add_notification(note(source="feed"), ["inbox"], START + timedelta(seconds=10), 60.0, 3)
    assert raised.value.retry_after == pytest.approx(50.0)
    store.add_notification(note(source="feed"), ["inbox"], START + timedelta(seconds=61), 60.0, 3)


def test_store_marks_inbox_sent_and_push_channels_pending(store: Store) -> None:
    notification, _ = store.add_notification(note(), ["inbox", "webhook"], START, 60.0, None)
    assert [(d.channel, d.status) for d in notification.deliveries] == [
        ("inbox", "sent"),
        ("webhook", "pending"),
    ]


def test_store_returns_in_flight_deliveries_to_pending_on_reopen(db_path: Path) -> None:
    store = Store(db_path)
    notification, _ = store.add_notification(note(), ["inbox", "webhook"], START, 60.0, None)
    claimed = store.claim_deliveries(START, 10)
    assert [d.channel for _, d in claimed] == ["webhook"]
    assert store.claim_deliveries(START, 10) == []
    store.close()  # as if the process died mid-delivery
    reopened = Store(db_path)
    assert [(n.id, d.status) for n, d in reopened.claim_deliveries(START, 10)] == [
        (notification.id, "sending")
    ]
    reopened.close()


def test_store_fires_reminder_once_when_two_callers_race(store: Store) -> None:
    reminder = store.add_reminder(NewReminder("stretch", "high", "UTC", START), START - timedelta(hours=1))
    [due] = store.due_reminders(START)
    new = NewNotification("stretch", "", "high", "reminder", reminder_id=reminder.id, kind="reminder")
    first = store.fire_reminder(due, new, ["inbox"], START, None)
    second = store.fire_reminder(due, new, ["inbox"], START, None)
    assert first is not None and second is None
    assert store.list_notifications(START, False, None, 10) == [first]
    assert store.get_reminder(reminder.id).status == "done"  # type: ignore[union-attr]


def test_store_keeps_one_active_digest(store: Store) -> None:
    old = store.add_reminder(
        NewReminder("Daily digest", "normal", "UTC", START, "FREQ=DAILY", "digest"), START
    )
    new = store.add_reminder(
        NewReminder("Daily digest", "normal", "UTC", START, "FREQ=DAILY", "digest"), START
    )
    assert [r.id for r in store.list_reminders(include_finished=False)] == [new.id]
    assert store.get_reminder(old.id).status == "cancelled"  # type: ignore[union-attr]


def test_store_snooze_hides_then_redelivers_unread(store: Store) -> None:
    notification, _ = store.add_notification(note(), ["inbox", "webhook"], START, 60.0, None)
    store.mark_read([notification.id], START)
    snoozed = store.snooze_notification(notification.id, START + timedelta(hours=1))
    assert snoozed is not None and snoozed.read_at is None
    assert store.list_notifications(START + timedelta(minutes=1), False, None, 10) == []
    assert store.counts(START + timedelta(minutes=1)) == (0, 1)
    assert {d.status for d in snoozed.deliveries} == {"pending"}
    assert store.counts(START + timedelta(hours=2)) == (1, 0)


def test_store_mark_read_reports_unknown_ids(store: Store) -> None:
    notification, _ = store.add_notification(note(), ["inbox"], START, 60.0, None)
    assert store.mark_read([notification.id, "n_nope"], START) == (1, ["n_nope"])
    assert store.mark_read([notification.id], START) == (0, [])
