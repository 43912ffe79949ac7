"""Benchmark of the calendar server's hot paths (issue 4 targets).

    .venv/bin/python bench/calendar.py

1. `list_events` over one year of a calendar of 2,000 events, 200 of them weekly recurring series
   (some with an exception and a moved occurrence): target <= 200 ms once the file is parsed.
2. `find_free_slots` for the user and 5 attendees over 2 weeks of that calendar: target <= 100 ms
   (reading the two weeks of events included).
Prints the median and the worst of several runs, plus the one-off parse time.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio

# This file is named like the stdlib's `calendar`, which dateutil imports: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from mcp_servers.calendar.free_slots import WorkingHours, busy_intervals, find_free_slots  # noqa: E402
from mcp_servers.calendar.ics import expand, parse_ics  # noqa: E402
from mcp_servers.calendar.ics_provider import IcsProvider  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
YEAR_START = datetime(2026, 1, 1, tzinfo=ZONE)
PEOPLE = [f"person{i}@example.com" for i in range(5)]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(uid: str, start: datetime, minutes: int, extra: list[str]) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Europe/Berlin:{start.strftime('%Y%m%dT%H%M%S')}",
        f"DTEND;TZID=Europe/Berlin:{(start + timedelta(minutes=minutes)).strftime('%Y%m%dT%H%M%S')}",
        f"SUMMARY:Event {uid}",
        *extra,
        "END:VEVENT",
    ]


def build_calendar(single: int = 1800, series: int = 200, seed: int = 4) -> str:
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pepper//bench//EN"]
    for index in range(single):
        start = YEAR_START + timedelta(days=rng.randrange(365), hours=rng.randrange(8, 18))
        who = [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{rng.choice(PEOPLE)}"] if rng.random() < 0.5 else []
        lines += _event(f"single-{index}", start, rng.choice([30, 60, 90]), who)
    for index in range(series):
        start = YEAR_START + timedelta(days=rng.randrange(28), hours=rng.randrange(8, 18))
        skipped = start + timedelta(weeks=rng.randrange(1, 40))
        who = [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{person}" for person in rng.sample(PEOPLE, 2)]
        rule = [
            f"RRULE:FREQ=WEEKLY;COUNT={rng.randrange(20, 53)}",
            f"EXDATE;TZID=Europe/Berlin:{skipped.strftime('%Y%m%dT%H%M%S')}",
        ]
        lines += _event(f"series-{index}", start, 30, rule + who)
        moved = start + timedelta(weeks=2)
        lines += _event(
            f"series-{index}", moved + timedelta(hours=1), 30, [f"RECURRENCE-ID:{_stamp(moved)}", *who]
        )
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


async def timed(function, runs: int) -> tuple[float, float, object]:
    durations, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await function()
        durations.append((time.perf_counter() - began) * 1000)
    return statistics.median(durations), max(durations), result


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="pepper-bench-"))
    (folder / "bench.ics").write_text(build_calendar())
    provider = IcsProvider([folder / "bench.ics"], ZONE, organizer="me@example.com")
    year_end = YEAR_START + timedelta(days=365)

    async def list_year():
        return await provider.list_events(YEAR_START, year_end, None, 100_000)

    data = (folder / "bench.ics").read_bytes()
    began = time.perf_counter()
    parsed = parse_ics(data, "bench.ics")
    parsed_at = time.perf_counter()
    expand(parsed, "bench", YEAR_START, year_end, ZONE, 100_000)
    print(
        f"cold: parse {(parsed_at - began) * 1000:.0f} ms, "
        f"expand a year uncached {(time.perf_counter() - parsed_at) * 1000:.0f} ms"
    )
    first = await list_year()
    median, worst, listed = await timed(list_year, 7)
    print(
        f"list_events, one year, {len(listed.events)} occurrences: median {median:.0f} ms, worst {worst:.0f} ms (target 200)"
    )
    assert len(first.events) == len(listed.events) and not listed.truncated

    window = (datetime(2026, 3, 2, tzinfo=ZONE), datetime(2026, 3, 16, tzinfo=ZONE))

    async def free_slots():
        events = await provider.list_events(*window, None, 100_000)
        busy = busy_intervals(events.events, ZONE, "me@example.com", PEOPLE)
        return find_free_slots(busy, timedelta(minutes=30), window, WorkingHours(), ZONE)

    median, worst, slots = await timed(free_slots, 15)
    print(
        f"find_free_slots, 5 attendees, 2 weeks, {len(slots.slots)} slots: median {median:.1f} ms, worst {worst:.1f} ms (target 100)"
    )


if __name__ == "__main__":
    anyio.run(main)
