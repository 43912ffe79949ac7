"""Reading zones, moments, durations, repeats and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.notify.when import (
    TimeInputError,
    next_occurrence,
    parse_duration,
    parse_moment,
    parse_repeat,
    parse_zone,
    quiet_hours_end,
)

PARIS = ZoneInfo("Europe/Paris")


def test_parse_zone_rejects_unknown_zone_with_hint() -> None:
    with pytest.raises(TimeInputError, match="unknown time zone 'Mars/Olympus'.*IANA"):
        parse_zone("Mars/Olympus")


def test_parse_zone_rejects_a_name_too_long_for_a_file_without_naming_the_file() -> None:
    with pytest.raises(TimeInputError, match="unknown time zone") as refused:
        parse_zone("a\r\n" * 2_000)
    assert "site-packages" not in str(refused.value)


def test_parse_moment_reads_naive_time_in_given_zone() -> None:
    assert parse_moment("2026-07-01T09:00", PARIS) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_parse_moment_keeps_explicit_offset() -> None:
    assert parse_moment("2026-07-01T09:00+00:00", PARIS) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone"), [("0001-01-01T00:00", "Europe/Berlin"), ("9999-12-31T23:59", "America/New_York")]
)
def test_parse_moment_refuses_a_time_that_overflows_in_utc(text: str, zone: str) -> None:
    with pytest.raises(TimeInputError, match="edge of the calendar"):
        parse_moment(text, ZoneInfo(zone))


def test_parse_moment_rejects_prose_with_example() -> None:
    with pytest.raises(TimeInputError, match="ISO 8601"):
        parse_moment("next tuesday-ish", PARIS)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("1h30m", 5400),
        ("2d", 172800),
        ("10 minutes", 600),
        ("PT10M", 600),
        ("1w", 604800),
    ],
)
def test_parse_duration_reads_common_forms(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "0m", "10 parsecs", "-5m", "99999999d", "36526d"])
def test_parse_duration_rejects_unreadable_zero_or_over_a_century(text: str) -> None:
    with pytest.raises(TimeInputError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("daily", "FREQ=DAILY"),
        ("Weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("every 2 hours", "FREQ=HOURLY;INTERVAL=2"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4", "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"),
    ],
)
def test_parse_repeat_normalises_to_rrule(text: str, rule: str) -> None:
    assert parse_repeat(text) == rule


@pytest.mark.parametrize("text", ["sometimes", "FREQ=SECONDLY", "FREQ=FORTNIGHTLY", "every 0 days"])
def test_parse_repeat_rejects_unknown_or_too_frequent(text: str) -> None:
    with pytest.raises(TimeInputError):
        parse_repeat(text)


def test_next_occurrence_keeps_local_wall_time_across_dst() -> None:
    anchor = datetime(2026, 3, 27, 9, 0, tzinfo=PARIS)  # Friday before the spring change (29 March)
    after = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    found = next_occurrence("FREQ=DAILY", anchor, PARIS, after)
    assert found is not None
    assert found.astimezone(PARIS).hour == 9
    assert found == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_next_occurrence_is_none_after_count_runs_out() -> None:
    anchor = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert next_occurrence("FREQ=DAILY;COUNT=2", anchor, ZoneInfo("UTC"), anchor + timedelta(days=1)) is None


def test_quiet_hours_end_spans_midnight() -> None:
    start, end = time(22, 0), time(7, 0)
    late_evening = datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
    early_morning = datetime(2026, 1, 11, 5, 0, tzinfo=UTC)
    daytime = datetime(2026, 1, 11, 12, 0, tzinfo=UTC)
    utc = ZoneInfo("UTC")
    assert quiet_hours_end(late_evening, utc, start, end) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
    assert quiet_hours_end(early_morning, utc, start, end) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
    assert quiet_hours_end(daytime, utc, start, end) is None


def test_quiet_hours_end_is_none_when_unset_or_empty() -> None:
    now = datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
    assert quiet_hours_end(now, ZoneInfo("UTC"), None, time(7, 0)) is None
    assert quiet_hours_end(now, ZoneInfo("UTC"), time(7, 0), time(7, 0)) is None
