"""The upcoming monitor: view changes, one alert per lead time, nearest alert only when late."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest

from mcp_servers.calendar.changes import ChangeLog
from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.provider import EventDraft
from mcp_servers.calendar.upcoming import UpcomingMonitor
from tests.mcp_servers.calendar.fakes import ManualClock

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)
LEADS = [timedelta(hours=2), timedelta(minutes=30)]


class Recorder:
    def __init__(self) -> None:
        self.count = 0
        self.changed = anyio.Event()

    async def __call__(self) -> None:
        self.count += 1
        self.changed.set()
        self.changed = anyio.Event()


async def _setup(tmp_path: Path, clock: ManualClock) -> tuple[IcsProvider, UpcomingMonitor, Recorder]:
    provider = IcsProvider([tmp_path / "cal.ics"], ZONE)
    recorder = Recorder()
    changes = ChangeLog(tmp_path / "log.sqlite3")
    monitor = UpcomingMonitor(provider, changes, recorder, clock, ZONE, LEADS)
    return provider, monitor, recorder


async def _meeting(provider: IcsProvider, start: datetime, title: str = "Review") -> str:
    draft = EventDraft(title=title, start=start, end=start + timedelta(hours=1))
    return (await provider.create_event(draft)).id


@pytest.mark.anyio
async def test_monitor_notifies_when_the_next_day_changes_and_not_otherwise(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    provider, monitor, recorder = await _setup(tmp_path, clock)
    await monitor.check()
    assert recorder.count == 1  # the first look is news
    await monitor.check()
    assert recorder.count == 1
    await _meeting(provider, NOW + timedelta(hours=6))
    await monitor.check()
    assert recorder.count == 2
    assert [e.title for e in (await monitor.view()).events] == ["Review"]


@pytest.mark.anyio
async def test_monitor_alerts_once_per_lead_time(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    provider, monitor, recorder = await _setup(tmp_path, clock)
    event_id = await _meeting(provider, NOW + timedelta(hours=3))
    assert await monitor.check() == NOW + timedelta(minutes=1)  # poll before the 2 h alert at 09:00
    clock.advance(timedelta(hours=1))
    await monitor.check()
    alerts = (await monitor.view()).alerts
    assert [(a.event_id, a.lead_minutes) for a in alerts] == [(event_id, 120)]
    before = recorder.count
    await monitor.check()
    assert recorder.count == before
    clock.advance(timedelta(minutes=90))
    await monitor.check()
    assert recorder.count == before + 1
    assert [a.lead_minutes for a in (await monitor.view()).alerts] == [120, 30]
    clock.advance(timedelta(minutes=31))
    assert (await monitor.view()).alerts == []


@pytest.mark.anyio
async def test_monitor_gives_only_the_nearest_alert_for_an_event_seen_late(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    provider, monitor, _ = await _setup(tmp_path, clock)
    await _meeting(provider, NOW + timedelta(minutes=20))
    await monitor.check()
    assert [a.lead_minutes for a in (await monitor.view()).alerts] == [30]


@pytest.mark.anyio
async def test_monitor_run_wakes_at_the_alert_time_of_the_manual_clock(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    provider, monitor, recorder = await _setup(tmp_path, clock)
    await _meeting(provider, NOW + timedelta(hours=2, minutes=30))
    async with anyio.create_task_group() as group:
        group.start_soon(monitor.run)
        with anyio.fail_after(10):
            while recorder.count < 1:
                await recorder.changed.wait()
            clock.advance(timedelta(minutes=30))
            while not (await monitor.view()).alerts:
                await recorder.changed.wait()
        assert [a.lead_minutes for a in (await monitor.view()).alerts] == [120]
        group.cancel_scope.cancel()
