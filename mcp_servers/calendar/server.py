"""The calendar's MCP surface: tools, the `calendar://upcoming` and event resources, and subscriptions.

`build_server(settings, provider=None, clock=None)` returns a FastMCP server. Its lifespan opens the
change log, watches the provider and runs the `UpcomingMonitor`, which notifies subscribers of
`calendar://upcoming` in both protocol eras. Read-only means read-only: the user's own events
(no other people) are written only with `settings.allow_write`, and invitations, answers to them and
changes or deletions of events with other people only with `settings.allow_send`
(`mcp_servers.common.write_flags`). Calendar errors become `ToolError`s that say what to do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio
from anyio.abc import TaskGroup
from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError, ToolError
from pydantic import BaseModel, Field

from mcp_servers.calendar.changes import ChangeLog
from mcp_servers.calendar.errors import CalendarError, StorageError
from mcp_servers.calendar.free_slots import WorkingHours, attendee_busy, busy_intervals, find_free_slots
from mcp_servers.calendar.ics_events import sort_key
from mcp_servers.calendar.models import (
    CalendarList,
    ChangeList,
    Event,
    EventList,
    FreeSlotList,
    UnreadAttendee,
    WhenGiven,
)
from mcp_servers.calendar.provider import CalendarProvider
from mcp_servers.calendar.settings import CalendarSettings
from mcp_servers.calendar.tool_args import EventId, tool_errors
from mcp_servers.calendar.upcoming import Clock, SystemClock, UpcomingMonitor
from mcp_servers.calendar.write_tools import register_writes
from mcp_servers.common.background import background
from mcp_servers.common.startup import StartupError
from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.common.surface import pepper_server

__all__ = ["UPCOMING_URI", "build_server"]

logger = logging.getLogger(__name__)
UPCOMING_URI = "calendar://upcoming"
READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
MAX_LIST_SPAN = timedelta(days=3 * 366)  # list_events, search_events
MAX_SLOT_SPAN = timedelta(days=366)  # find_free_slots

Start = Annotated[WhenGiven, Field(description="ISO 8601 date-time (no offset: your timezone) or date")]
Calendars = Annotated[list[str] | None, Field(description="Calendar ids to read; all when omitted")]
Limit = Annotated[int | None, Field(ge=1, description="Most events to return (server maximum if omitted)")]


class TimeWindow(BaseModel):
    start: WhenGiven = Field(description="Beginning of the window (date-time or date)")
    end: WhenGiven = Field(description="End of the window (date-time or date, exclusive)")


class _Runtime:
    """What the lifespan opens and the tools use."""

    changes: ChangeLog
    monitor: UpcomingMonitor


def build_server(
    settings: CalendarSettings, provider: CalendarProvider | None = None, clock: Clock | None = None
) -> FastMCP:
    """The calendar MCP server over `provider` (built from `settings` when None)."""
    zone = settings.zone()
    provider = provider or _provider_from(settings)
    clock = clock or SystemClock()
    subscriptions = ResourceSubscriptions()
    runtime = _Runtime()

    @asynccontextmanager
    async def lifespan(_: FastMCP) -> AsyncIterator[dict[str, Any]]:
        try:
            runtime.changes = await anyio.to_thread.run_sync(ChangeLog, _change_log_path(settings))
        except StorageError as exc:  # its state dir read-only, a corrupt file: one line, exit 2
            raise StartupError(str(exc)) from exc
        runtime.monitor = UpcomingMonitor(
            provider,
            runtime.changes,
            lambda: subscriptions.notify(UPCOMING_URI),
            clock,
            zone,
            [timedelta(minutes=m) for m in settings.lead_times_minutes],
            window=timedelta(hours=settings.upcoming_hours),
            poll=timedelta(seconds=settings.poll_seconds),
            limit=settings.max_events,
        )
        try:

            async def services(tasks: TaskGroup) -> None:
                tasks.start_soon(_watch, provider, runtime.monitor)
                tasks.start_soon(runtime.monitor.run)

            async with background(services):
                yield {}
        finally:
            subscriptions.close()
            runtime.changes.close()

    server = pepper_server("pepper-calendar", lifespan=lifespan, instructions=_INSTRUCTIONS)
    subscriptions.install(server)
    _register_reads(server, provider, settings, clock)
    _register_planning(server, provider, settings, runtime)
    register_writes(server, provider, settings, clock)
    return server


_INSTRUCTIONS = (
    "Pepper's calendar. Read events with list_events, upcoming and search_events; find meeting times "
    "with find_free_slots. Times without an offset are in the user's timezone. Subscribe to "
    "calendar://upcoming to hear when the next day changes and shortly before each event."
)


def _provider_from(settings: CalendarSettings) -> CalendarProvider:
    if settings.ics:
        from mcp_servers.calendar.ics_provider import IcsProvider
        from mcp_servers.calendar.invites import mailer_from

        return IcsProvider(
            settings.ics, settings.zone(), organizer=settings.user_email, mailer=mailer_from(settings)
        )
    if settings.caldav_url:
        from mcp_servers.calendar.caldav_provider import CaldavProvider

        return CaldavProvider.from_settings(settings)
    if settings.google_token_file:
        from mcp_servers.calendar.google_provider import GoogleCalendarProvider

        return GoogleCalendarProvider.from_settings(settings)
    if settings.composio_api_key:
        from mcp_servers.calendar.composio_provider import ComposioCalendarProvider

        return ComposioCalendarProvider.from_settings(settings)
    raise SystemExit(
        "no calendar configured: pass --ics PATH, or set PEPPER_CALENDAR_CALDAV_URL, "
        "PEPPER_CALENDAR_GOOGLE_TOKEN_FILE or COMPOSIO_API_KEY"
    )


def _change_log_path(settings: CalendarSettings) -> Path:
    sources = "\n".join(sorted(str(path.resolve()) for path in settings.ics))
    composio = f"composio:{settings.composio_base_url}|{settings.composio_user_id}|{settings.composio_connected_account_id}"
    google = f"google:{settings.google_token_file}" if settings.google_token_file else composio
    sources = sources or settings.caldav_url or google
    digest = hashlib.sha256(sources.encode()).hexdigest()[:12]
    return settings.state_dir / f"changes-{digest}.sqlite3"


async def _watch(provider: CalendarProvider, monitor: UpcomingMonitor) -> None:
    async def changed() -> None:
        monitor.poke()

    try:
        await provider.watch(changed)
    except CalendarError as exc:  # still served: reads check the files, the monitor polls
        logger.warning("not watching the calendars: %s", exc)
    except Exception:  # watching is a help, not a need: never take the monitor down with it
        logger.exception("watching the calendars failed; changes are seen on reads and polls")


def _instant(moment: date, zone: Any) -> datetime:
    return sort_key(moment, zone)


def _check_span(begin: datetime, finish: datetime, most: timedelta, what: str) -> None:
    """Refuse a window that is empty or too long to expand, before any work."""
    if finish <= begin:
        raise ToolError(f"end must be after start: pass {what}'s beginning, then its end")
    if finish - begin > most:
        raise ToolError(
            f"{what} spans {(finish - begin).days} days: at most {most.days} days per call; "
            "ask for shorter windows one after the other"
        )


def _register_reads(
    server: FastMCP, provider: CalendarProvider, settings: CalendarSettings, clock: Clock
) -> None:
    zone = settings.zone()

    def cap(limit: int | None) -> int:
        return min(limit or settings.max_events, settings.max_events)

    @server.tool(annotations=READ_ONLY)
    async def list_events(
        start: Start, end: Start, calendars: Calendars = None, limit: Limit = None
    ) -> EventList:
        """Events (recurring ones expanded) that overlap [start, end), in start order."""
        begin, finish = _instant(start, zone), _instant(end, zone)
        _check_span(begin, finish, MAX_LIST_SPAN, "the window")
        with tool_errors():
            return await provider.list_events(begin, finish, calendars, cap(limit))

    @server.tool(annotations=READ_ONLY)
    async def get_event(event_id: EventId) -> Event:
        """One event: a single event, a whole series, or one occurrence of a series."""
        with tool_errors():
            return await provider.get_event(event_id)

    @server.tool(annotations=READ_ONLY)
    async def upcoming(
        within: Annotated[
            timedelta, Field(description="How far ahead, as ISO 8601 duration (PT2H) or seconds")
        ] = timedelta(hours=24),
        limit: Limit = None,
    ) -> EventList:
        """Events from now until `within` from now, including ones already under way."""
        if within <= timedelta(0) or within > timedelta(days=366):
            raise ToolError("within must be positive and at most a year, e.g. PT2H or P7D")
        now = clock.now()
        with tool_errors():
            return await provider.list_events(now, now + within, None, cap(limit))

    @server.tool(annotations=READ_ONLY)
    async def search_events(
        text: Annotated[str, Field(min_length=1, description="Words to find in title, place, notes, people")],
        start: Annotated[WhenGiven | None, Field(description="From (default: 30 days ago)")] = None,
        end: Annotated[WhenGiven | None, Field(description="Until (default: a year from now)")] = None,
        limit: Limit = None,
    ) -> EventList:
        """Events whose title, location, description or people contain every word of `text`."""
        now = clock.now()
        begin = _instant(start, zone) if start else now - timedelta(days=30)
        finish = _instant(end, zone) if end else now + timedelta(days=365)
        _check_span(begin, finish, MAX_LIST_SPAN, "the search window")
        words = text.lower().split()
        with tool_errors():
            found = await provider.list_events(begin, finish, None, settings.max_events)
        hits = [event for event in found.events if all(word in _haystack(event) for word in words)]
        return EventList(
            events=hits[: cap(limit)],
            truncated=found.truncated or len(hits) > cap(limit),
            errors=found.errors,
        )


def _register_planning(
    server: FastMCP, provider: CalendarProvider, settings: CalendarSettings, runtime: _Runtime
) -> None:
    zone = settings.zone()

    @server.tool(name="find_free_slots", annotations=READ_ONLY)
    async def find_slots(
        duration: Annotated[timedelta, Field(description="Meeting length: ISO 8601 (PT30M) or seconds")],
        window: Annotated[TimeWindow, Field(description="Where to look")],
        attendees: Annotated[list[str], Field(description="Addresses whose busy time also counts")] = [],  # noqa: B006
        working_hours: Annotated[
            WorkingHours | None, Field(description="Default: weekdays, server hours")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> FreeSlotList:
        """Free stretches at least `duration` long, inside working hours, where nobody named is busy."""
        hours = working_hours or WorkingHours(start=settings.working_start, end=settings.working_end)
        begin, finish = _instant(window.start, zone), _instant(window.end, zone)
        _check_span(begin, finish, MAX_SLOT_SPAN, "the window")
        people = [a for a in dict.fromkeys(attendees) if a.lower() != (settings.user_email or "").lower()]
        with tool_errors():
            events = await provider.list_events(begin, finish, None, 100_000)
            busy = busy_intervals(events.events, zone, settings.user_email, people)
            theirs = await attendee_busy(provider, people, begin, finish)
            for intervals in theirs.busy.values():
                busy.extend(intervals)
            found = find_free_slots(busy, duration, (begin, finish), hours, zone, limit)
        found.checked_attendees = sorted(theirs.busy)
        found.unread_attendees = [UnreadAttendee(email=a, reason=r) for a, r in theirs.unread.items()]
        return found

    @server.tool(annotations=READ_ONLY)
    async def list_calendars() -> CalendarList:
        """The calendars this server reads, whether each can be written, and any that cannot be read."""
        with tool_errors():
            return CalendarList(calendars=await provider.list_calendars())

    @server.tool(annotations={**READ_ONLY, "idempotentHint": False})
    async def list_changes(
        since: Annotated[
            str | None, Field(description="Cursor from the last call; omit to start over")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 200,
    ) -> ChangeList:
        """Event series created, updated or deleted since the cursor, oldest first; keep the new cursor."""
        with tool_errors():
            await runtime.changes.record_async(await provider.fingerprints())
            return await runtime.changes.read_async(since, limit)

    @server.resource(UPCOMING_URI, mime_type="application/json")
    async def upcoming_resource() -> str:
        """The next day's events and the alerts due (JSON); subscribe to hear when it changes."""
        try:
            return (await runtime.monitor.view()).model_dump_json()
        except CalendarError as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource("calendar://event/{event_id}", mime_type="application/json")
    async def event_resource(event_id: str) -> str:
        """One event by id (JSON)."""
        try:
            return (await provider.get_event(event_id)).model_dump_json()
        except CalendarError as exc:
            raise ResourceError(str(exc)) from exc


def _haystack(event: Event) -> str:
    people = [event.organizer] if event.organizer else []
    people += event.attendees
    parts = [event.title, event.location or "", event.description or ""]
    parts += [f"{p.name or ''} {p.email or ''}" for p in people]
    return " ".join(parts).lower()
