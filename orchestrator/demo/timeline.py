"""Time and identity for one generation run: dates relative to `now`, ids that never repeat.

Everything the generators produce is placed with a `Timeline`: `at(days_ago, hour, minute)` is a
local wall-clock time in the demo's timezone, kept strictly before `now` (mail cannot come from the
future), and `earlier_today()` spreads today's mail over the part of today that has already passed,
however early `now` is. A `Timeline` also hands out Message-IDs (unique per run, stable per seed).
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Timeline"]


class Timeline:
    """The clock, the zone and the random source shared by the generators of one run."""

    def __init__(self, now: datetime, zone: ZoneInfo, seed: int) -> None:
        self.now = now.astimezone(zone).replace(microsecond=0)
        self.zone = zone
        self.seed = seed
        self.rng = random.Random(seed)
        self._ids = 0

    @property
    def today(self) -> date:
        return self.now.date()

    def day(self, offset: int) -> date:
        """The local date `offset` days from today (negative: in the past)."""
        return self.today + timedelta(days=offset)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall-clock time on `day` in the demo's timezone."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def at(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        """A past moment `days_ago` days back at that local time, nudged before `now` if needed."""
        moment = self.local(self.day(-days_ago), hour, minute)
        if moment >= self.now:
            moment = self.earlier_today(0.9)
        return moment

    def earlier_today(self, fraction: float) -> datetime:
        """The moment `fraction` of the way from midnight (or 07:00, if passed) to `now`."""
        start = self.local(self.today, 7) if self.now.hour >= 8 else self.local(self.today, 0)
        span = (self.now - start).total_seconds()
        return (start + timedelta(seconds=int(span * fraction))).replace(microsecond=0)

    def working_day(self, days_ago: int) -> date:
        """The date `days_ago` days back, moved earlier to a Monday-Friday."""
        day = self.day(-days_ago)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day

    def working_day_ahead(self, days: int) -> date:
        """The date `days` days on, moved later to a Monday-Friday."""
        day = self.day(days)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    def jitter(self, moment: datetime, minutes: int) -> datetime:
        """`moment` plus up to `minutes` minutes, never reaching `now`."""
        moved = moment + timedelta(minutes=self.rng.randint(1, max(minutes, 1)))
        return moved if moved < self.now else moment

    def message_id(self, domain: str) -> str:
        """A new Message-ID on `domain`, unique in this run and stable for the seed."""
        self._ids += 1
        token = hashlib.sha256(f"{self.seed}:{self._ids}".encode()).hexdigest()[:24]
        return f"<{token}.{self._ids}@{domain}>"
