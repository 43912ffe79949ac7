"""Fixtures for the notify server's tests: a fresh database, a manual clock, and event recorders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from mcp_servers.notify.clock import ManualClock
from mcp_servers.notify.settings import NotifySettings

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Events:
    """What the engine reported (inbox arrivals, delivery attempts), with a way to wait for more."""

    def __init__(self) -> None:
        self.inbox: list[str] = []
        self.deliveries: list[tuple[str, str, str | None]] = []
        self._changed = anyio.Event()

    async def on_inbox(self, ids: Sequence[str]) -> None:
        self.inbox.extend(ids)
        self._poke()

    async def on_delivery(self, notification_id: str, channel: str, error: str | None) -> None:
        self.deliveries.append((notification_id, channel, error))
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        with anyio.fail_after(10):
            while not condition():
                await self._changed.wait()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "notify.sqlite3"


@pytest.fixture
def settings(db_path: Path) -> NotifySettings:
    return NotifySettings(db_path=db_path, desktop="off", retry_base_seconds=2.0, retry_max_attempts=3)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def events() -> Events:
    return Events()
