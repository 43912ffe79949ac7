"""Where the real-world test calendars shipped inside `icalendar` and `recurring-ical-events` live."""

from __future__ import annotations

from pathlib import Path

import icalendar
import recurring_ical_events

ICALENDAR_TESTS = Path(icalendar.__file__).parent / "tests"
RECURRING_CALENDARS = Path(recurring_ical_events.__file__).parent / "test" / "calendars"

# icalendar/tests/conftest.py: BROKEN_SOURCE_FILES, plus its fuzz test cases, are broken on purpose.
ICALENDAR_BROKEN = {
    "big_bad_calendar.ics",
    "issue_104_broken_calendar.ics",
    "issue_1050_multiple_calendars.ics",
    "small_bad_calendar.ics",
    "multiple_calendar_components.ics",
    "pr_480_summary_with_colon.ics",
    "parsing_error_in_UTC_offset.ics",
    "parsing_error.ics",
}


def shipped_calendars() -> list[Path]:
    return sorted(ICALENDAR_TESTS.rglob("*.ics")) + sorted(RECURRING_CALENDARS.glob("*.ics"))


def broken_on_purpose(path: Path) -> bool:
    return path.name in ICALENDAR_BROKEN or path.name.startswith("fuzz_testcase")
