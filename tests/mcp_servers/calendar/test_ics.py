"""Parsing and expanding real calendars: the ones shipped inside icalendar and recurring-ical-events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from mcp_servers.calendar.errors import CalendarSourceError
from mcp_servers.calendar.ics import expand, parse_ics
from mcp_servers.calendar.ics_events import sort_key
from tests.mcp_servers.calendar.shipped import RECURRING_CALENDARS, broken_on_purpose, shipped_calendars

BERLIN = ZoneInfo("Europe/Berlin")


def _events(name: str, start: date, end: date, zone=BERLIN, limit: int = 1000):
    parsed = parse_ics((RECURRING_CALENDARS / f"{name}.ics").read_bytes(), name)
    begin = datetime(start.year, start.month, start.day, tzinfo=zone)
    stop = datetime(end.year, end.month, end.day, tzinfo=zone)
    return expand(parsed, "test", begin, stop, zone, limit)


@pytest.mark.parametrize("path", shipped_calendars(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_parse_ics_reads_every_shipped_calendar_or_says_why_not(path: Path) -> None:
    try:
        parsed = parse_ics(path.read_bytes(), str(path))
    except CalendarSourceError as exc:
        assert broken_on_purpose(path), f"rejected a calendar the library reads: {exc}"
        assert str(path) in str(exc)
        return
    start, end = datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    expansion = expand(parsed, "shipped", start, end, BERLIN, 300)
    assert len(expansion.events) <= 300
    for event in expansion.events:
        assert sort_key(event.start, BERLIN) <= sort_key(event.end, BERLIN)
        assert event.all_day == (type(event.start) is date)
        assert isinstance(event.start, date) and (event.all_day or event.start.tzinfo is not None)


def _library_starts(path: Path, start: datetime, end: datetime) -> set[datetime]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    return {sort_key(_aware(c["DTSTART"].dt), BERLIN) for c in query.between(start, end)}


def _aware(moment: date) -> date:
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=BERLIN)
    return moment


ORACLE_CALENDARS = [
    path for path in sorted(RECURRING_CALENDARS.glob("*.ics")) if path.stem != "end_before_start_event"
]


@pytest.mark.parametrize("path", ORACLE_CALENDARS, ids=lambda path: path.stem)
def test_expand_matches_recurring_ical_events_on_its_own_calendars(path: Path) -> None:
    start, end = datetime(2018, 1, 1, tzinfo=BERLIN), datetime(2024, 1, 1, tzinfo=BERLIN)
    expected = _library_starts(path, start, end)
    expansion = expand(parse_ics(path.read_bytes(), path.name), "t", start, end, BERLIN, 5000)
    assert not expansion.truncated
    assert {sort_key(event.start, BERLIN) for event in expansion.events} == expected


@pytest.mark.parametrize(
    ("day", "hour", "offset_hours"), [(date(2019, 3, 20), 19, 1), (date(2019, 4, 24), 19, 2)]
)
def test_expand_keeps_local_time_across_daylight_saving(day: date, hour: int, offset_hours: int) -> None:
    # recurring_ical_events/test/test_daylight_saving_time.py
    (event,) = _events("daylight_saving_time", day, date.fromordinal(day.toordinal() + 1)).events
    assert event.start.hour == hour
    assert event.start.utcoffset().total_seconds() == offset_hours * 3600


def test_expand_shows_a_moved_occurrence_on_its_new_day_only() -> None:
    # recurring_ical_events/test/test_issue_62_moved_event.py
    december = _events("issue_62_moved_event", date(2021, 12, 1), date(2022, 1, 1)).events
    assert [event.start.date() for event in december] == [date(2021, 12, 17)]
    assert december[0].recurrence_id is not None and december[0].recurring


def test_expand_leaves_out_excluded_dates() -> None:
    # recurring_ical_events/test/test_deleted_entries.py: each_week_but_one_deleted
    events = _events("each_week_but_one_deleted", date(2019, 1, 1), date(2020, 1, 1)).events
    starts = [event.start.date() for event in events]
    assert len(starts) == len(set(starts))
    gaps = {(b - a).days for a, b in zip(starts, starts[1:], strict=False)}
    assert gaps == {7, 14}


def test_expand_reads_x_wr_timezone_for_times_without_tzid() -> None:
    # recurring_ical_events/test/test_issue_86_x_wr_timezone_but_no_tzid_in_dt.py
    events = _events("issue_86_x_wr_timezone_without_time_zone_in_dt", date(2021, 9, 1), date(2021, 10, 1))
    first = events.events[0]
    assert (first.start.day, first.start.hour, first.start.tzname()) == (16, 21, "CEST")


def test_expand_gives_all_day_events_as_dates() -> None:
    events = _events("one_day_event_repeat_every_day", date(2019, 3, 4), date(2019, 3, 7)).events
    assert len(events) == 3
    assert all(event.all_day and type(event.start) is date for event in events)
    assert all((event.end - event.start).days == 1 for event in events)


def test_expand_reads_floating_times_in_the_users_timezone() -> None:
    data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260301T090000\r\nDTEND:20260301T100000\r\nSUMMARY:Floating\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    tokyo = ZoneInfo("Asia/Tokyo")
    window = (datetime(2026, 3, 1, tzinfo=tokyo), datetime(2026, 3, 2, tzinfo=tokyo))
    (event,) = expand(parse_ics(data, "f"), "f", *window, tokyo, 10).events
    assert event.start == datetime(2026, 3, 1, 9, tzinfo=tokyo)
    assert event.start.utcoffset() == tokyo.utcoffset(event.start)


def test_expand_stops_at_the_limit_and_says_so_when_a_rule_has_50000_instances() -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:many\r\n"
        b"DTSTART:20200101T000000Z\r\nDTEND:20200101T000100Z\r\nRRULE:FREQ=MINUTELY;INTERVAL=10;COUNT=50000\r\n"
        b"SUMMARY:Every ten minutes\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    window = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))
    expansion = expand(parse_ics(data, "many"), "m", *window, UTC, 500)
    assert expansion.truncated
    assert len(expansion.events) == 500
    assert expansion.events[0].start == datetime(2020, 1, 1, tzinfo=UTC)


def test_parse_ics_rejects_text_that_is_not_icalendar_with_the_file_name() -> None:
    with pytest.raises(CalendarSourceError, match=r"notes\.ics: not a valid iCalendar file"):
        parse_ics(b"this is not a calendar\r\n", "notes.ics")


def test_parse_ics_reads_an_unknown_tzid_in_the_users_zone_and_says_so() -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:mars\r\n"
        b"DTSTART;TZID=Mars/Olympus_Mons:20260301T090000\r\nDTEND;TZID=Mars/Olympus_Mons:20260301T100000\r\n"
        b"SUMMARY:Unknown zone\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    parsed = parse_ics(data, "mars.ics")
    assert any("unknown TZID 'Mars/Olympus_Mons'" in note for note in parsed.notes)
    window = (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    (event,) = expand(parsed, "mars", *window, BERLIN, 10).events
    assert event.start == datetime(2026, 3, 1, 9, tzinfo=BERLIN)


def test_expand_swaps_an_event_that_ends_before_it_starts_as_the_library_does() -> None:
    # recurring_ical_events/test/test_issue_132_swapped_start_and_end.py
    (event,) = _events("end_before_start_event", date(2019, 1, 1), date(2020, 1, 1)).events
    assert event.start == datetime(2019, 3, 4, 8, tzinfo=BERLIN)
    assert event.end == datetime(2019, 3, 4, 8, 30, tzinfo=BERLIN)
