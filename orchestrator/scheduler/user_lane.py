"""The user's lane: while Pepper answers the user, background work (ingest, triage) waits its turn.

`async with lane.serving():` wraps the handling of a user message; background loops call
`await lane.yield_to_user()` between pages of work, which returns at once when no user message is
being answered and otherwise waits until none is (at most `patience` seconds, so that a stuck answer
cannot stop the background for good). The servers then spend their time on the user's request, not
on the next page of a first sync.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

__all__ = ["UserLane"]


class UserLane:
    def __init__(self, patience: float = 30.0) -> None:
        self.patience = patience
        self.active = 0  # user messages being answered now
        self._idle = anyio.Event()
        self._idle.set()
        self.yields = 0  # times background work waited for the user (for status and tests)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Mark a user message as being answered for the duration of the block."""
        self.active += 1
        self._idle = anyio.Event() if self.active == 1 else self._idle
        try:
            yield
        finally:
            self.active -= 1
            if self.active == 0:
                self._idle.set()

    async def yield_to_user(self, wake: anyio.Event | None = None) -> None:
        """Wait while a user message is being answered (at most `patience` seconds), or until `wake`
        is set (work that is the user's too, such as new mail, may go ahead)."""
        if self.active:
            self.yields += 1
            with anyio.move_on_after(self.patience):
                async with anyio.create_task_group() as waiting:
                    for event in filter(None, (self._idle, wake)):
                        waiting.start_soon(_until, event, waiting.cancel_scope)


async def _until(event: anyio.Event, done: anyio.CancelScope) -> None:
    await event.wait()
    done.cancel()
