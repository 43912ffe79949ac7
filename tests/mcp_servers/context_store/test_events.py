"""The event log: paging, namespace filters, consumer cursors and the retention rule."""

from __future__ import annotations

import time

import pytest

from mcp_servers.context_store.errors import InvalidInput
from mcp_servers.context_store.events import DAY, Retention
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.store import ContextStore


def fill(store: ContextStore, namespace: str, count: int) -> None:
    store.store_many([ItemInput(namespace=namespace, id=f"{namespace}-{i}", data=i) for i in range(count)])


def test_read_events_pages_in_seq_order(store: ContextStore) -> None:
    fill(store, "n", 5)
    first = store.read_events(0, limit=2)
    assert [e.seq for e in first.events] == [1, 2] and first.has_more
    second = store.read_events(first.next_after, limit=10)
    assert [e.seq for e in second.events] == [3, 4, 5] and not second.has_more
    assert store.read_events(second.next_after).events == []


def test_read_events_filters_by_namespace_globs(store: ContextStore) -> None:
    fill(store, "raw.email", 2)
    fill(store, "signals.email", 2)
    fill(store, "signals.calendar", 1)
    page = store.read_events(0, namespaces=["signals.*"])
    assert [e.namespace for e in page.events] == ["signals.email", "signals.email", "signals.calendar"]
    both = store.read_events(0, namespaces=["raw.*", "signals.cal*"])
    assert [e.seq for e in both.events] == [1, 2, 5]


def test_read_events_skips_cursor_to_end_when_nothing_matches(store: ContextStore) -> None:
    fill(store, "raw.email", 3)
    page = store.read_events(0, namespaces=["signals.*"])
    assert page.events == [] and page.next_after == 3


def test_read_events_rejects_invalid_glob_and_negative_cursor(store: ContextStore) -> None:
    with pytest.raises(InvalidInput, match="invalid namespace pattern"):
        store.read_events(0, namespaces=["Bad Glob"])
    with pytest.raises(InvalidInput, match="negative"):
        store.read_events(-1)


def test_consumer_resumes_from_acked_cursor_after_reopen(db_path) -> None:
    store = ContextStore.open(db_path)
    fill(store, "n", 4)
    page = store.read_events(consumer="feeds", limit=3)
    assert store.ack("feeds", page.next_after) == 3
    store.close()
    reopened = ContextStore.open(db_path)
    assert [e.seq for e in reopened.read_events(consumer="feeds").events] == [4]
    reopened.close()


def test_ack_never_moves_a_cursor_backwards(store: ContextStore) -> None:
    fill(store, "n", 5)
    store.ack("c", 4)
    assert store.ack("c", 2) == 4
    assert store.cursor("c") == 4


def test_ack_rejects_a_seq_beyond_the_log_and_bad_names(store: ContextStore) -> None:
    fill(store, "n", 2)
    with pytest.raises(InvalidInput, match="cannot ack seq 3"):
        store.ack("c", 3)
    with pytest.raises(InvalidInput, match="invalid consumer name"):
        store.ack("bad name!", 1)


def age_events(store: ContextStore, seconds: float) -> None:
    """Backdate every event (the retention rule looks at `at`)."""
    with store._write() as db:
        db.execute("UPDATE events SET at = at - ?", (seconds,))


def test_compact_removes_events_older_than_the_age_limit(db_path) -> None:
    store = ContextStore.open(db_path, retention=Retention(max_age_days=7))
    fill(store, "n", 3)
    age_events(store, 8 * DAY)
    fill(store, "m", 2)
    assert store.compact_events() == 3
    assert [e.seq for e in store.read_events(3).events] == [4, 5]
    store.close()


def test_compact_keeps_only_the_newest_max_events(db_path) -> None:
    store = ContextStore.open(db_path, retention=Retention(max_events=2))
    fill(store, "n", 5)
    assert store.compact_events() == 3
    assert [e.seq for e in store.read_events(3).events] == [4, 5]
    store.close()


def test_compact_never_deletes_events_a_live_consumer_has_not_acked(db_path) -> None:
    store = ContextStore.open(db_path, retention=Retention(max_events=1, consumer_live_days=30))
    fill(store, "n", 6)
    store.ack("slow", 2)
    store.ack("fast", 6)
    assert store.compact_events() == 2
    assert [e.seq for e in store.read_events(consumer="slow").events] == [3, 4, 5, 6]


def test_compact_ignores_consumers_silent_beyond_the_live_window(db_path) -> None:
    store = ContextStore.open(db_path, retention=Retention(max_events=1, consumer_live_days=30))
    fill(store, "n", 6)
    store.ack("gone", 1)
    with store._write() as db:
        db.execute("UPDATE consumers SET acked_at = ?", (time.time() - 31 * DAY,))
    assert store.compact_events() == 5
    page = store.read_events(consumer="gone")
    assert page.gap is True
    assert [e.seq for e in page.events] == [6]


def test_read_events_reports_no_gap_when_nothing_was_compacted(store: ContextStore) -> None:
    fill(store, "n", 2)
    assert store.read_events(0).gap is False
    assert store.read_events(1).gap is False
