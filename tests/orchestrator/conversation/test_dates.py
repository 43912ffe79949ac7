"""Dates and times in requests, read from a pinned clock in the user's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrator.conversation.dates import When, find_when, moment_of
from orchestrator.conversation.lang import LANGUAGES

ENGLISH = LANGUAGES["en"]
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY = datetime(2026, 3, 11, 10, 0, tzinfo=BERLIN)
SATURDAY_BEFORE_SPRING_FORWARD = datetime(2026, 3, 28, 16, 30, tzinfo=BERLIN)
SUNDAY_EVENING = datetime(2026, 3, 15, 21, 0, tzinfo=BERLIN)
MONDAY_AFTER_FALL_BACK = datetime(2026, 11, 2, 9, 15, tzinfo=NEW_YORK)


def when(text: str, now: datetime) -> When:
    return find_when(text, now, ENGLISH)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("today", WEDNESDAY, "2026-03-11"),
        ("tomorrow", WEDNESDAY, "2026-03-12"),
        ("the day after tomorrow", WEDNESDAY, "2026-03-13"),
        ("yesterday", WEDNESDAY, "2026-03-10"),
        ("friday", WEDNESDAY, "2026-03-13"),
        ("wednesday", WEDNESDAY, "2026-03-11"),  # the day itself: today
        ("next friday", WEDNESDAY, "2026-03-20"),  # the Friday of next week
        ("wednesday next week", WEDNESDAY, "2026-03-18"),
        ("monday", SATURDAY_BEFORE_SPRING_FORWARD, "2026-03-30"),
        ("next monday", SATURDAY_BEFORE_SPRING_FORWARD, "2026-03-30"),
        ("sunday", SATURDAY_BEFORE_SPRING_FORWARD, "2026-03-29"),
        ("monday", SUNDAY_EVENING, "2026-03-16"),
        ("since friday", MONDAY_AFTER_FALL_BACK, "2026-10-30"),
        ("since monday", MONDAY_AFTER_FALL_BACK, "2026-10-26"),  # a week back, never today
        ("on the 14th", WEDNESDAY, "2026-03-14"),
        ("on the 2nd", WEDNESDAY, "2026-04-02"),
        ("march 25", WEDNESDAY, "2026-03-25"),
        ("25 march", WEDNESDAY, "2026-03-25"),
        ("january 5", datetime(2026, 12, 20, 9, 0, tzinfo=BERLIN), "2027-01-05"),
        ("on the 31st", datetime(2026, 4, 10, 9, 0, tzinfo=BERLIN), "2026-05-31"),  # April has no 31st
    ],
)
def test_day_words_resolve_from_the_pinned_clock(text: str, now: datetime, expected: str) -> None:
    assert when(text, now).date_slot() == expected


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("this week", WEDNESDAY, "2026-03-11..2026-03-15"),
        ("next week", WEDNESDAY, "2026-03-16..2026-03-22"),
        ("this weekend", WEDNESDAY, "2026-03-14..2026-03-15"),
        ("this weekend", SATURDAY_BEFORE_SPRING_FORWARD, "2026-03-28..2026-03-29"),
        ("next weekend", WEDNESDAY, "2026-03-21..2026-03-22"),
        ("the next 3 days", WEDNESDAY, "2026-03-11..2026-03-13"),
        ("this month", WEDNESDAY, "2026-03-11..2026-03-31"),
        ("this month", datetime(2026, 12, 30, 9, 0, tzinfo=BERLIN), "2026-12-30..2026-12-31"),
        ("between monday and wednesday", WEDNESDAY, "2026-03-16..2026-03-18"),
        ("from thursday to saturday", WEDNESDAY, "2026-03-12..2026-03-14"),
        ("between the 16th and the 20th", WEDNESDAY, "2026-03-16..2026-03-20"),
    ],
)
def test_ranges_include_both_ends(text: str, now: datetime, expected: str) -> None:
    assert when(text, now).date_slot() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 3pm", "15:00"),
        ("at 3", "15:00"),  # a bare hour is read between 07:00 and 18:59
        ("at 9", "09:00"),
        ("at 9:30", "09:30"),
        ("15:30", "15:30"),
        ("at noon", "12:00"),
        ("10 am", "10:00"),
        ("12am", "00:00"),
        ("tomorrow afternoon", "afternoon"),
        ("this evening", "evening"),
        ("tonight", "evening"),
        ("every morning at 9", "09:00"),  # the clock time wins over the part of the day
    ],
)
def test_clock_times_and_parts_of_the_day(text: str, expected: str) -> None:
    assert when(text, WEDNESDAY).time_slot() == expected


def test_a_delay_across_spring_forward_moves_the_wall_clock_an_hour_further() -> None:
    found = when("in 10 hours", SATURDAY_BEFORE_SPRING_FORWARD)
    assert (found.date_slot(), found.time_slot()) == ("2026-03-29", "03:30")
    assert found.moment is not None and found.moment.utcoffset().total_seconds() == 7200


def test_the_last_two_hours_after_fall_back_count_real_time() -> None:
    just_after = datetime(2026, 11, 1, 2, 30, tzinfo=NEW_YORK)  # 02:30 EST; 01:30 happened twice
    found = when("the last 2 hours", just_after)
    assert found.moment is not None
    assert (just_after.astimezone(UTC) - found.moment.astimezone(UTC)).total_seconds() == 7200
    assert (found.moment.hour, found.moment.fold) == (1, 0)  # 01:30 EDT, the first of the two


def test_a_reminder_time_on_the_day_the_clocks_change_keeps_its_wall_time() -> None:
    moment = moment_of(
        when("sunday at 8:15", SATURDAY_BEFORE_SPRING_FORWARD), SATURDAY_BEFORE_SPRING_FORWARD, ENGLISH
    )
    assert moment == datetime(2026, 3, 29, 8, 15, tzinfo=BERLIN)
    assert moment is not None and moment.utcoffset().total_seconds() == 7200


def test_a_clock_time_alone_is_today_until_it_passes_then_tomorrow() -> None:
    assert moment_of(
        when("at 5pm", SATURDAY_BEFORE_SPRING_FORWARD), SATURDAY_BEFORE_SPRING_FORWARD, ENGLISH
    ) == (datetime(2026, 3, 28, 17, 0, tzinfo=BERLIN))
    assert moment_of(
        when("at 9am", SATURDAY_BEFORE_SPRING_FORWARD), SATURDAY_BEFORE_SPRING_FORWARD, ENGLISH
    ) == (datetime(2026, 3, 29, 9, 0, tzinfo=BERLIN))


def test_a_day_alone_gets_the_default_time_and_a_part_of_day_its_hour() -> None:
    assert moment_of(when("monday", WEDNESDAY), WEDNESDAY, ENGLISH) == datetime(
        2026, 3, 16, 9, 0, tzinfo=BERLIN
    )
    assert moment_of(when("tomorrow evening", WEDNESDAY), WEDNESDAY, ENGLISH) == datetime(
        2026, 3, 12, 18, 0, tzinfo=BERLIN
    )
    assert moment_of(When(), WEDNESDAY, ENGLISH) is None


def test_an_ordinal_item_is_not_read_as_a_day_of_the_month() -> None:
    assert when("snooze the 2nd one until monday", WEDNESDAY).date_slot() == "2026-03-16"
    assert when("reply to the 2nd one", WEDNESDAY).day is None


def test_words_that_say_nothing_about_time_find_nothing() -> None:
    found = when("what is urgent", WEDNESDAY)
    assert not found.found and found.date_slot() is None and found.time_slot() is None
    assert when("the meeting moved to 3", WEDNESDAY).time_slot() is None


def test_an_impossible_clock_time_is_not_a_time() -> None:
    assert when("at 13pm", WEDNESDAY).time_slot() is None
    assert date(2026, 3, 11) == when("today at 25:00", WEDNESDAY).day
