"""The notify server's sense of time, injectable so that tests can move it.

`SystemClock` reads the wall clock and sleeps on the monotonic one. `ManualClock` stands still until a
test sets or advances it, and wakes whoever sleeps on it. Both return timezone-aware UTC datetimes.
The engine never sleeps longer than `tick_seconds` at a time, so a jump of the wall clock (a laptop
resuming, an NTP correction) is noticed within one tick.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep_until(self, deadline: datetime) -> None:
        """Return once this clock reads `deadline` or later."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, deadline: datetime) -> None:
        # Sleeping on the monotonic clock; a wall-clock jump meanwhile is caught by the caller's tick.
        await anyio.sleep(max(0.0, (deadline - self.now()).total_seconds()))


class ManualClock:
    """A clock that moves only when told to; sleepers wake when it reaches their deadline."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._moved = anyio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when`, forwards or backwards."""
        self._now = when.astimezone(UTC)
        self._moved.set()
        self._moved = anyio.Event()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    async def sleep_until(self, deadline: datetime) -> None:
        while self._now < deadline:
            await self._moved.wait()
