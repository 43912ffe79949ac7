"""Hostile recurrence: rules denser than hourly are refused through the tools (nothing written), and a
file holding such series, or a rule that never matches, still lists within a deadline."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.calendar import bounded
from mcp_servers.calendar.ics import expand, parse_ics
from mcp_servers.calendar.rrules import DENSE_COUNT, capped_rule, mean_gap, normalize_rule, parse_rule
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.fakes import ManualClock

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)


def vevent(uid: str, rule: str, start: str = "20260302T090000") -> str:
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTART;TZID=Europe/Berlin:{start}\n"
        f"DURATION:PT15M\nSUMMARY:{uid}\nRRULE:{rule}\nEND:VEVENT\n"
    )


def calendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + "".join(events) + "END:VCALENDAR\n"


HOSTILE = calendar(
    vevent("flood-seconds", "FREQ=SECONDLY", "20250302T090000"),
    vevent("flood-minutes", "FREQ=MINUTELY"),
    vevent("never", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"),
    vevent("weekly", "FREQ=WEEKLY"),
)


def settings(tmp_path: Path, content: str) -> CalendarSettings:
    (tmp_path / "cals").mkdir(exist_ok=True)
    (tmp_path / "cals" / "work.ics").write_text(content.replace("\n", "\r\n"))
    return CalendarSettings(
        ics=[tmp_path / "cals"], timezone="Europe/Berlin", state_dir=tmp_path / "state", poll_seconds=3600
    )


@pytest.mark.parametrize(
    ("rule", "gap"),
    [
        ("FREQ=SECONDLY", timedelta(seconds=1)),
        ("FREQ=MINUTELY;INTERVAL=30", timedelta(minutes=30)),
        ("FREQ=DAILY;BYHOUR=8,9,10;BYMINUTE=0,20,40", timedelta(hours=24) / 9),
        ("FREQ=HOURLY", timedelta(hours=1)),
        ("FREQ=MINUTELY;INTERVAL=90", timedelta(minutes=90)),
        ("FREQ=WEEKLY;BYDAY=MO,TU", timedelta(days=7)),
    ],
)
def test_mean_gap_counts_the_finer_by_parts(rule: str, gap: timedelta) -> None:
    assert mean_gap(parse_rule(rule)) == gap


@pytest.mark.parametrize(
    "rule", ["FREQ=SECONDLY", "RRULE:FREQ=MINUTELY;INTERVAL=10", "FREQ=HOURLY;BYMINUTE=0,30"]
)
def test_rules_denser_than_hourly_are_refused_for_new_events(rule: str) -> None:
    with pytest.raises(ValueError, match="calendar events may repeat at most once an hour"):
        normalize_rule(rule)
    assert normalize_rule("FREQ=HOURLY;INTERVAL=2") == "FREQ=HOURLY;INTERVAL=2"


def test_a_dense_rule_read_from_a_file_is_capped_by_count_keeping_an_earlier_until() -> None:
    start = date(2026, 3, 2)
    assert capped_rule(parse_rule("FREQ=SECONDLY"), start)["COUNT"] == [DENSE_COUNT]
    assert capped_rule(parse_rule("FREQ=MINUTELY;COUNT=90"), start)["COUNT"] == [90]
    assert capped_rule(parse_rule("FREQ=MINUTELY;UNTIL=20260303"), start) is None  # 1,440 at most
    far = capped_rule(parse_rule("FREQ=SECONDLY;UNTIL=20300101"), start)
    assert "UNTIL" not in far and far["COUNT"] == [DENSE_COUNT]
    assert capped_rule(parse_rule("FREQ=DAILY"), start) is None


@pytest.mark.anyio
async def test_creating_a_secondly_event_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    config = settings(tmp_path, calendar(vevent("weekly", "FREQ=WEEKLY")))
    before = (tmp_path / "cals" / "work.ics").read_bytes()
    async with Client(build_server(config, clock=ManualClock(NOW))) as client:
        draft = {"title": "Flood", "start": "2026-03-03T10:00", "end": "2026-03-03T10:01"}
        with pytest.raises(ToolError, match="repeats every 1 second.*at most once an hour"):
            await client.call_tool("create_event", {"draft": {**draft, "recurrence": "RRULE:FREQ=SECONDLY"}})
        with pytest.raises(ToolError, match="repeats every 1 minute.*at most once an hour"):
            await client.call_tool(
                "update_event", {"event_id": "work:weekly", "changes": {"recurrence": "FREQ=MINUTELY"}}
            )
    assert (tmp_path / "cals" / "work.ics").read_bytes() == before


@pytest.mark.anyio
async def test_a_file_with_dense_and_never_matching_series_still_lists_within_a_deadline(
    tmp_path: Path,
) -> None:
    async with Client(build_server(settings(tmp_path, HOSTILE), clock=ManualClock(NOW))) as client:
        with anyio.fail_after(bounded.EXPANSION_SECONDS * 4 + 10):
            year = await client.call_tool("list_events", {"start": "2026-03-02", "end": "2027-03-02"})
        listed = year.structured_content
        assert listed["truncated"] is True
        assert any("never skipped: expanding it took longer" in error for error in listed["errors"])
        with anyio.fail_after(10):  # the never-matching series is not walked again
            week = await client.call_tool(
                "list_events", {"start": "2026-06-01", "end": "2026-06-08", "limit": 500}
            )
            titles = {event["title"] for event in week.structured_content["events"]}
        assert "weekly" in titles and "never" not in titles


def test_one_listing_stops_expanding_at_its_occurrence_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounded, "MAX_EXPANDED", 30)
    parsed = parse_ics(calendar(*(vevent(f"daily{i}", "FREQ=DAILY") for i in range(5))).encode(), "test")
    started = time.monotonic()
    found = expand(
        parsed, "c", datetime(2026, 3, 2, tzinfo=ZONE), datetime(2026, 4, 2, tzinfo=ZONE), ZONE, 1000
    )
    assert found.truncated and len(found.events) == 31  # a series is expanded whole, then the listing stops
    assert "stopped expanding recurring events after 31 occurrences" in found.notes[-1]
    assert time.monotonic() - started < bounded.EXPANSION_SECONDS


@pytest.mark.anyio
async def test_windows_longer_than_the_documented_span_are_refused(tmp_path: Path) -> None:
    async with Client(build_server(settings(tmp_path, HOSTILE), clock=ManualClock(NOW))) as client:
        with pytest.raises(ToolError, match="spans 3652 days: at most 1098 days per call"):
            await client.call_tool("list_events", {"start": "2026-01-01", "end": "2036-01-01"})
        window = {"start": "2026-01-01", "end": "2028-01-01"}
        with pytest.raises(ToolError, match="spans 730 days: at most 366 days"):
            await client.call_tool("find_free_slots", {"duration": "PT30M", "window": window})
