"""`Paced`: an action run when asked, at once after a quiet spell and at most every `interval`
seconds while asks keep coming (a burst's asks between two runs make one run). Pepper's writes of
progress use it: a feed's acks, and what each scheduler step leaves to store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

__all__ = ["Paced"]


class Paced:
    def __init__(self, action: Callable[[], Awaitable[None]], interval: float) -> None:
        self._action, self.interval = action, interval
        self._asked = anyio.Event()

    def ask(self) -> None:
        """Run the action soon (at once when the last run is `interval` old)."""
        self._asked.set()

    async def run(self) -> None:
        """Run the action for each ask, at most every `interval` seconds, until cancelled."""
        while True:
            await self._asked.wait()
            self._asked = anyio.Event()
            await self._action()
            await anyio.sleep(self.interval)
