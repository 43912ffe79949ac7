"""The durable change log: diffs of snapshots, cursors that skip nothing and repeat nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.calendar.changes import ChangeLog
from mcp_servers.calendar.errors import InvalidEventError


def _ops(log: ChangeLog, since: str | None = None) -> list[tuple[str, str]]:
    return [(change.op, change.uid) for change in log.read(since, 100).changes]


def test_change_log_records_created_updated_and_deleted_series(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log.sqlite3")
    assert log.record({"work": {"a": ("1", "A"), "b": ("1", "B")}}) == 2
    assert log.record({"work": {"a": ("2", "A2"), "c": ("1", "C")}}) == 3
    assert _ops(log) == [
        ("created", "a"),
        ("created", "b"),
        ("deleted", "b"),
        ("updated", "a"),
        ("created", "c"),
    ]
    assert log.record({"work": {"a": ("2", "A2"), "c": ("1", "C")}}) == 0


def test_change_log_leaves_calendars_missing_from_a_snapshot_alone(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log.sqlite3")
    log.record({"work": {"a": ("1", "A")}, "home": {"h": ("1", "H")}})
    assert log.record({"home": {"h": ("1", "H")}}) == 0  # work.ics unreadable for a moment


def test_change_log_cursor_pages_without_gaps_or_repeats(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "log.sqlite3")
    log.record({"work": {f"e{i:02}": ("1", None) for i in range(25)}})
    seen, cursor, more = [], None, True
    while more:
        page = log.read(cursor, 10)
        seen += [change.uid for change in page.changes]
        cursor, more = page.cursor, page.more
    assert seen == [f"e{i:02}" for i in range(25)]
    assert log.read(cursor, 10).changes == []
    log.record({"work": {}})
    assert len(log.read(cursor, 100).changes) == 25


def test_change_log_survives_a_restart(tmp_path: Path) -> None:
    first = ChangeLog(tmp_path / "log.sqlite3")
    first.record({"work": {"a": ("1", "A")}})
    cursor = first.read(None, 10).cursor
    first.close()
    second = ChangeLog(tmp_path / "log.sqlite3")
    assert second.record({"work": {"a": ("1", "A")}}) == 0
    second.record({"work": {"a": ("2", "A")}})
    assert [(c.op, c.uid) for c in second.read(cursor, 10).changes] == [("updated", "a")]


@pytest.mark.parametrize(("cursor", "message"), [("abc", "not one list_changes gave"), ("99", "ahead of")])
def test_change_log_refuses_a_foreign_cursor(tmp_path: Path, cursor: str, message: str) -> None:
    log = ChangeLog(tmp_path / "log.sqlite3")
    log.record({"work": {"a": ("1", "A")}})
    with pytest.raises(InvalidEventError, match=message):
        log.read(cursor, 10)
