"""Pinned clocks for tests whose outcome depends on the day: in-process moments and real processes.

In-process code takes `now` as an argument (`generate_demo(now=...)`, `triage_email(..., now)`), so
those tests pass one of `WEEK`. Real processes (`pepper-orchestrator run --demo` and the four servers it
starts) read the system clock in many places, some of them inside libraries (dateparser reads "today",
SQLite "now", icalendar DTSTAMP), so they run under libfaketime instead of a clock seam in the code:
`PinnedClock.env()` preloads it with a relative offset, which every child process inherits unchanged,
so all of them agree on the time and it keeps running from the pinned moment (a "start at" time would
restart in each child as it starts). The monotonic clock stays real, so timeouts and anyio's event loop
are unaffected; file times stay real (`NO_FAKE_STAT`), so Maildir and .ics change detection is too.
A browser page gets the same time with Playwright's `context.clock.install(time=clock.now())`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

__all__ = ["PINNED", "WEEK", "PinnedClock", "libfaketime"]

# Monday 7 December 2026, 09:30 in London (UTC in winter): the moment the real-process tests live in.
PINNED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

# Each day of that week, early (before the first meeting) and in the evening (the day's meetings over).
WEEK = [
    PINNED.replace(hour=hour, minute=minute) + timedelta(days=day)
    for day in range(7)
    for hour, minute in ((7, 0), (18, 30))
]

LIBFAKETIME_GLOBS = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")


def moment_id(moment: datetime) -> str:
    """A readable test id: `Mon-0700`."""
    return moment.strftime("%a-%H%M")


def libfaketime() -> Path:
    """The preloadable library of Debian's `faketime` package; skips the test when it is missing."""
    for pattern in LIBFAKETIME_GLOBS:
        found = sorted(Path("/").glob(pattern.lstrip("/")))
        if found:
            return found[0]
    pytest.skip("libfaketime is missing: apt-get install faketime (scripts/apt-packages.txt)")


class PinnedClock:
    """The system clock moved to `at` for child processes (and pages) started from now on."""

    def __init__(self, at: datetime = PINNED) -> None:
        if at.tzinfo is None:
            raise ValueError("a pinned moment needs a timezone")
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        """What the pinned processes read from their clock at this instant."""
        return datetime.now(UTC) + self.offset

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) plus the variables that pin a child's clock."""
        env = dict(os.environ if base is None else base)
        preload = [str(libfaketime()), *filter(None, env.get("LD_PRELOAD", "").split(":"))]
        env.update(
            {
                "LD_PRELOAD": ":".join(dict.fromkeys(preload)),
                "FAKETIME": f"{round(self.offset.total_seconds()):+d}",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                "DONT_FAKE_MONOTONIC": "1",  # the name libfaketime before 0.9.9 reads
                "NO_FAKE_STAT": "1",
            }
        )
        return env
