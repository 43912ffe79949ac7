"""A clock the tests move by hand: sleepers wake when it passes their deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = anyio.Event()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, deadline: datetime) -> None:
        while self._now < deadline:
            await self._moved.wait()

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._moved.set()
        self._moved = anyio.Event()
