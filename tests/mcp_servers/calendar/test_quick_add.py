"""Quick-add read from a line of English, under a pinned clock: a table of phrasings, every weekday
as "today", and each kind of text it must refuse in words."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.calendar.errors import InvalidEventError
from mcp_servers.calendar.quick_add import read_quick_add

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=ZONE)  # a Saturday morning


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("text", "title", "start", "end", "place"),
    [
        (
            "Lunch with Dana tomorrow at 1pm at Cafe Roma",
            "Lunch with Dana",
            at(6, 13),
            at(6, 14),
            "Cafe Roma",
        ),
        ("Dentist Friday 10-11am", "Dentist", at(11, 10), at(11, 11), None),
        ("dentist on fri at 10:30am for 45 min", "Dentist", at(11, 10, 30), at(11, 11, 15), None),
        ("Standup next Monday at 9:30 for 15 minutes", "Standup", at(7, 9, 30), at(7, 9, 45), None),
        ("Dana's birthday on Dec 14", "Dana's birthday", date(2026, 12, 14), date(2026, 12, 15), None),
        ("Review 2026-12-20 from 2 to 3:30pm", "Review", at(20, 14), at(20, 15, 30), None),
        ("Call with Tom at 3", "Call with Tom", at(5, 15), at(5, 16), None),
        ("Team dinner tonight @ Le Bistro", "Team dinner", at(5, 19), at(5, 20), "Le Bistro"),
        ("Offsite in 2 weeks for 2 days", "Offsite", date(2026, 12, 19), date(2026, 12, 21), None),
        ("Meeting in Room 4 at 11am", "Meeting in Room 4", at(5, 11), at(5, 12), None),
        ("Board meeting on the 14th at noon", "Board meeting", at(14, 12), at(14, 13), None),
        (
            "Budget review on the 3rd at 4:30pm",
            "Budget review",
            at(3, 16, 30, 1, 2027),
            at(3, 17, 30, 1, 2027),
            None,
        ),
        ("Sync 14 January 15:00", "Sync", at(14, 15, 0, 1, 2027), at(14, 16, 0, 1, 2027), None),
        ("Flight to Berlin Dec 20 8:05am for 2h", "Flight to Berlin", at(20, 8, 5), at(20, 10, 5), None),
        ("Coffee at 9am", "Coffee", at(6, 9), at(6, 10), None),  # 9am has passed today: tomorrow's
        ("Dinner 7pm", "Dinner", at(5, 19), at(5, 20), None),
        ("yoga the day after tomorrow 6-7pm", "Yoga", at(7, 18), at(7, 19), None),
        ("Planning March 3 2027 9am-12pm", "Planning", at(3, 9, 0, 3, 2027), at(3, 12, 0, 3, 2027), None),
        (
            "Quarterly review in 3 days at 2pm for half an hour",
            "Quarterly review",
            at(8, 14),
            at(8, 14, 30),
            None,
        ),
    ],
)
def test_a_line_of_text_becomes_the_event_it_describes(
    text: str, title: str, start: date, end: date, place: str | None
) -> None:
    event = read_quick_add(text, NOW)
    assert (event.title, event.start, event.end, event.location) == (title, start, end, place)


@pytest.mark.parametrize("offset", range(7))
def test_a_weekday_is_the_next_one_and_today_is_today_on_every_day_of_the_week(offset: int) -> None:
    now = NOW + timedelta(days=offset)
    friday = read_quick_add("Dentist Friday at 4pm", now).start
    assert isinstance(friday, datetime) and friday.weekday() == 4
    assert timedelta(0) <= friday.date() - now.date() < timedelta(days=7)
    assert read_quick_add("Gym today at 6pm", now).start == datetime.combine(
        now.date(), datetime.min.time().replace(hour=18), ZONE
    )
    tomorrow = read_quick_add("Gym tomorrow", now)
    assert (tomorrow.start, tomorrow.end) == (now.date() + timedelta(days=1), now.date() + timedelta(days=2))


def test_a_time_across_a_daylight_saving_change_keeps_its_wall_clock() -> None:
    event = read_quick_add("Brunch on March 8 2026 at 11am", datetime(2026, 3, 5, 9, tzinfo=ZONE))
    assert event.start.hour == 11 and event.start.utcoffset() == timedelta(hours=-4)  # EDT from 8 March


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("call mom", "found no day or time"),
        ("tomorrow at 3pm", "found no title"),
        ("Review 3pm-1pm", "end .* before it starts"),
        ("Party on Feb 30", "there is no February 30"),
        ("Launch 2026-13-45", "is not a date"),
        ("Meeting at 13pm", "12-hour clock"),
        ("Retreat tomorrow for 30 days", "from a minute to 14 days"),
        ("x" * 501, "at most 500"),
    ],
)
def test_text_it_cannot_place_is_refused_with_what_to_write(text: str, words: str) -> None:
    with pytest.raises(InvalidEventError, match=words):
        read_quick_add(text, NOW)
