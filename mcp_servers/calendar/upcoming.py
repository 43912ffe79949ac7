"""What is coming up, and when to say so: the monitor behind the `calendar://upcoming` resource.

`UpcomingMonitor.check()` reads the next `window` of events (24 hours by default), records event
series changes in the change log, and calls `notify()` once when either the view or the log
changed. It also fires one alert per event and lead time (e.g. 2 h and 30 min before it starts):
an event first seen inside a lead window gets only the nearest alert, not every one it missed.
`run()` checks again at the next alert time, every `poll` interval, and whenever `poke()` says the
calendars changed. Time comes from a `Clock`, so tests can move it by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

import anyio
from pydantic import BaseModel, Field

from mcp_servers.calendar.changes import ChangeLog
from mcp_servers.calendar.errors import CalendarError, StorageError
from mcp_servers.calendar.ics_events import sort_key
from mcp_servers.calendar.models import Event
from mcp_servers.calendar.provider import CalendarProvider

__all__ = ["Alert", "Clock", "SystemClock", "UpcomingMonitor", "UpcomingView"]

logger = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, deadline: datetime) -> None: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, deadline: datetime) -> None:
        await anyio.sleep(max((deadline - self.now()).total_seconds(), 0))


class Alert(BaseModel):
    """An event about to start, announced `lead_minutes` ahead."""

    event_id: str
    title: str
    start: datetime
    lead_minutes: int
    fired_at: datetime


class UpcomingView(BaseModel):
    """The body of `calendar://upcoming`."""

    generated_at: datetime
    until: datetime
    events: list[Event]
    alerts: list[Alert] = Field(description="Alerts fired for events that have not started yet")
    truncated: bool = False
    errors: list[str] = Field(default_factory=list)


class UpcomingMonitor:
    """See the module docstring."""

    def __init__(
        self,
        provider: CalendarProvider,
        changes: ChangeLog,
        notify: Callable[[], Awaitable[None]],
        clock: Clock,
        zone: tzinfo,
        lead_times: list[timedelta],
        window: timedelta = timedelta(hours=24),
        poll: timedelta = timedelta(minutes=1),
        limit: int = 2000,
    ) -> None:
        self._provider, self._changes, self._notify = provider, changes, notify
        self._clock, self._zone, self._window, self._poll, self._limit = clock, zone, window, poll, limit
        self._leads = sorted(set(lead_times), reverse=True)
        self._seen: tuple[object, ...] | None = None
        self._fired: dict[tuple[str, datetime], set[timedelta]] = {}
        self._alerts: list[Alert] = []
        self._wake = anyio.Event()

    def poke(self) -> None:
        """The calendars may have changed: check now."""
        self._wake.set()

    async def view(self) -> UpcomingView:
        now = self._clock.now()
        listed = await self._provider.list_events(now, now + self._window, None, self._limit)
        alerts = [alert for alert in self._alerts if alert.start > now]
        return UpcomingView(
            generated_at=now,
            until=now + self._window,
            events=listed.events,
            alerts=alerts,
            truncated=listed.truncated,
            errors=listed.errors,
        )

    async def check(self) -> datetime:
        """Look once, notify if anything changed, and return when to look next."""
        now = self._clock.now()
        try:
            recorded = await self._changes.record_async(await self._provider.fingerprints())
        except StorageError as exc:  # the change log cannot be written: the alerts still fire
            logger.warning("calendar changes not recorded: %s", exc)
            recorded = 0
        listed = await self._provider.list_events(now, now + self._window, None, self._limit)
        shape = tuple(
            (e.id, e.start, e.end, e.title, e.status, e.location, e.conference_link) for e in listed.events
        )
        changed = shape != self._seen or recorded > 0
        self._seen = shape
        fired = self._fire_alerts(listed.events, now)
        if changed or fired:
            await self._notify()
        for _ in range(max(fired - 1, 0)):  # one notification per alert
            await self._notify()
        return self._next_check(listed.events, now)

    def _fire_alerts(self, events: list[Event], now: datetime) -> int:
        self._alerts = [alert for alert in self._alerts if alert.start > now]
        count = 0
        for event in events:
            start = sort_key(event.start, self._zone)
            if start <= now or event.status == "cancelled":
                continue
            done = self._fired.setdefault((event.id, start), set())
            due = [lead for lead in self._leads if start - lead <= now and lead not in done]
            if not due:
                continue
            done.update(lead for lead in self._leads if lead >= due[-1])
            minutes = int(due[-1].total_seconds() // 60)
            self._alerts.append(
                Alert(event_id=event.id, title=event.title, start=start, lead_minutes=minutes, fired_at=now)
            )
            count += 1
        self._fired = {key: leads for key, leads in self._fired.items() if key[1] > now}
        return count

    def _next_check(self, events: list[Event], now: datetime) -> datetime:
        candidates = [now + self._poll]
        for event in events:
            start = sort_key(event.start, self._zone)
            candidates.extend(start - lead for lead in self._leads if start - lead > now)
        return min(candidates)

    async def run(self) -> None:
        """Check, then sleep until the next check is due or `poke()` is called; until cancelled."""
        while True:
            self._wake = anyio.Event()
            try:
                deadline = await self.check()
            except CalendarError as exc:  # a calendar that is down must not stop the server
                logger.warning("upcoming check failed: %s", exc)
                deadline = self._clock.now() + self._poll
            except Exception:  # nor may a bug in one check end the alerts for good
                logger.exception("upcoming check failed")
                deadline = self._clock.now() + self._poll
            async with anyio.create_task_group() as group:
                group.start_soon(_then_cancel, group.cancel_scope, self._clock.sleep_until, deadline)
                group.start_soon(_then_cancel, group.cancel_scope, self._wake.wait)


async def _then_cancel(
    scope: anyio.CancelScope, wait: Callable[..., Awaitable[object]], *args: object
) -> None:
    await wait(*args)
    scope.cancel()
