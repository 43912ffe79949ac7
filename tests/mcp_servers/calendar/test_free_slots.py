"""Free slots: working hours, merged busy time of several people, DST, and bad requests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_servers.calendar.errors import InvalidEventError
from mcp_servers.calendar.free_slots import WorkingHours, busy_intervals, find_free_slots
from mcp_servers.calendar.models import Attendee, Event, Person

ZONE = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 2, tzinfo=ZONE)


def _at(day: int, hour: float) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


def _event(
    start: datetime, end: datetime, *, who: list[tuple[str, str]] = (), busy: bool = True, **extra
) -> Event:
    return Event(
        id=f"c:{start.isoformat()}",
        calendar="c",
        uid=start.isoformat(),
        title="x",
        start=start,
        end=end,
        all_day=False,
        attendees=[Attendee(email=email, response=response) for email, response in who],
        busy=busy,
        **extra,
    )


def test_find_free_slots_returns_working_hours_minus_busy_time() -> None:
    busy = [(_at(0, 10), _at(0, 11)), (_at(0, 10.5), _at(0, 12)), (_at(0, 15), _at(0, 16))]
    result = find_free_slots(busy, timedelta(minutes=30), (_at(0, 0), _at(1, 0)), WorkingHours(), ZONE)
    assert [(s.start, s.end) for s in result.slots] == [
        (_at(0, 9), _at(0, 10)),
        (_at(0, 12), _at(0, 15)),
        (_at(0, 16), _at(0, 17)),
    ]


def test_find_free_slots_drops_gaps_shorter_than_the_meeting() -> None:
    busy = [(_at(0, 9.5), _at(0, 16.75))]
    result = find_free_slots(busy, timedelta(minutes=45), (_at(0, 0), _at(1, 0)), WorkingHours(), ZONE)
    assert [(s.start, s.end) for s in result.slots] == []
    result = find_free_slots(busy, timedelta(minutes=30), (_at(0, 0), _at(1, 0)), WorkingHours(), ZONE)
    assert [(s.start, s.end) for s in result.slots] == [(_at(0, 9), _at(0, 9.5))]


def test_find_free_slots_skips_weekends_and_clips_to_the_window() -> None:
    window = (_at(4, 16), _at(7, 10))  # Friday 16:00 to Monday 10:00
    result = find_free_slots([], timedelta(minutes=30), window, WorkingHours(), ZONE)
    assert [(s.start, s.end) for s in result.slots] == [(_at(4, 16), _at(4, 17)), (_at(7, 9), _at(7, 10))]


def test_find_free_slots_keeps_local_working_hours_across_a_dst_change() -> None:
    window = (datetime(2026, 3, 27, tzinfo=ZONE), datetime(2026, 3, 31, tzinfo=ZONE))
    result = find_free_slots([], timedelta(hours=1), window, WorkingHours(days=list(range(7))), ZONE)
    assert [s.start.astimezone(ZONE).time() for s in result.slots] == [time(9)] * 4
    assert {s.start.utcoffset() for s in result.slots} == {timedelta(hours=1), timedelta(hours=2)}


def test_find_free_slots_reads_working_hours_in_their_own_timezone() -> None:
    hours = WorkingHours(start=time(9), end=time(10), timezone="America/New_York")
    result = find_free_slots([], timedelta(minutes=30), (_at(0, 0), _at(1, 0)), hours, ZONE)
    assert [(s.start, s.end) for s in result.slots] == [(_at(0, 15), _at(0, 16))]


def test_find_free_slots_stops_at_the_limit_and_says_so() -> None:
    result = find_free_slots(
        [], timedelta(minutes=30), (_at(0, 0), _at(14, 0)), WorkingHours(), ZONE, limit=3
    )
    assert len(result.slots) == 3 and result.truncated


@pytest.mark.parametrize(
    ("duration", "window", "hours", "message"),
    [
        (timedelta(0), (_at(0, 0), _at(1, 0)), WorkingHours(), "duration must be positive"),
        (timedelta(hours=1), (_at(1, 0), _at(0, 0)), WorkingHours(), "window ends before it starts"),
        (timedelta(hours=1), (_at(0, 0), _at(400, 0)), WorkingHours(), "longer than a year"),
        (timedelta(hours=1), (_at(0, 0), _at(1, 0)), WorkingHours(start=time(18)), "end before they start"),
        (
            timedelta(hours=1),
            (_at(0, 0), _at(1, 0)),
            WorkingHours(timezone="Nowhere/Land"),
            "unknown timezone",
        ),
        (
            timedelta(hours=1),
            (_at(0, 0), _at(1, 0)),
            WorkingHours(timezone="Europe/" + "x" * 300),
            "unknown timezone",
        ),
    ],
)
def test_find_free_slots_explains_a_bad_request(duration, window, hours, message) -> None:
    with pytest.raises(InvalidEventError, match=message):
        find_free_slots([], duration, window, hours, ZONE)


def test_working_hours_refuses_days_outside_the_week() -> None:
    with pytest.raises(ValueError, match="weekdays 0"):
        WorkingHours(days=[7])


def test_busy_intervals_counts_attendees_but_not_declines_or_free_events() -> None:
    events = [
        _event(_at(0, 9), _at(0, 10), who=[("me@x.org", "accepted")]),
        _event(_at(0, 11), _at(0, 12), who=[("me@x.org", "declined")]),
        _event(_at(0, 13), _at(0, 14), who=[("me@x.org", "declined"), ("ann@x.org", "tentative")]),
        _event(_at(0, 15), _at(0, 16), busy=False),
        _event(_at(0, 16), _at(0, 17), status="cancelled"),
        _event(_at(0, 7), _at(0, 8), who=[("me@x.org", "declined")], organizer=Person(email="ann@x.org")),
    ]
    assert busy_intervals(events, ZONE, "me@x.org") == [(_at(0, 9), _at(0, 10))]
    assert busy_intervals(events, ZONE, "me@x.org", ["ANN@x.org"]) == [
        (_at(0, 9), _at(0, 10)),
        (_at(0, 13), _at(0, 14)),
        (_at(0, 7), _at(0, 8)),
    ]


def test_busy_intervals_blocks_a_whole_day_for_an_all_day_event() -> None:
    day = Event(
        id="c:d",
        calendar="c",
        uid="d",
        title="Offsite",
        start=date(2026, 3, 2),
        end=date(2026, 3, 3),
        all_day=True,
    )
    assert busy_intervals([day], ZONE, None) == [(_at(0, 0), _at(1, 0))]


@given(
    st.lists(st.tuples(st.integers(0, 14 * 24 * 4), st.integers(1, 16)), max_size=40),
    st.integers(1, 8),
)
def test_find_free_slots_never_overlaps_busy_time(raw: list[tuple[int, int]], quarters: int) -> None:
    busy = [(MONDAY + timedelta(minutes=15 * s), MONDAY + timedelta(minutes=15 * (s + n))) for s, n in raw]
    duration = timedelta(minutes=15 * quarters)
    window = (MONDAY, MONDAY + timedelta(days=14))
    result = find_free_slots(busy, duration, window, WorkingHours(), ZONE, limit=1000)
    for slot in result.slots:
        assert slot.end - slot.start >= duration
        assert time(9) <= slot.start.astimezone(ZONE).time() and slot.end.astimezone(ZONE).time() <= time(17)
        assert all(slot.end <= start or end <= slot.start for start, end in busy)
