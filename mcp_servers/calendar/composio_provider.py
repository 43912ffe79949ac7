"""The Composio provider: a Google calendar reached through Composio's GOOGLECALENDAR tools.

Composio's Google Calendar tools are the Calendar API's own operations under other names, and the
Google provider is written against a googleapiclient Calendar service that it asks for six
requests: `calendarList().list()`, `events().list / insert / patch / delete` and
`freebusy().query()`. So this module
supplies such a service, `ComposioCalendarService`, whose requests run `GOOGLECALENDAR_LIST_CALENDARS`,
`GOOGLECALENDAR_EVENTS_LIST` (Google's own parameters, syncToken included), `GOOGLECALENDAR_CREATE_EVENT`
(a start plus a duration; all-day and longer events are then set exactly with a patch),
`GOOGLECALENDAR_PATCH_EVENT`, `GOOGLECALENDAR_DELETE_EVENT` and `GOOGLECALENDAR_FREE_BUSY_QUERY`, and `ComposioCalendarProvider` is the
Google provider over it: incremental sync, recurrence, ids and free/busy are those of the other
backends. A Google error that a tool reports (a 410 for an expired sync token, a 404) is raised as
the `HttpError` googleapiclient would raise, so the Google provider handles it as usual. What the
tools cannot express (changing a recurrence rule, answering for someone other than the connected
account) is refused with an error that names the missing capability.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httplib2
from googleapiclient.errors import HttpError

from mcp_servers.calendar.errors import CalendarSourceError, InvalidEventError
from mcp_servers.calendar.event_ids import parse_event_id
from mcp_servers.calendar.google_provider import GoogleCalendarProvider
from mcp_servers.calendar.models import Event, ResponseStatus
from mcp_servers.calendar.provider import EventDraft, EventPatch, Scope
from mcp_servers.calendar.recurrence_edit import resolve_scope
from mcp_servers.calendar.settings import CalendarSettings
from mcp_servers.common.composio_client import (
    ComposioClient,
    ComposioConfig,
    ComposioError,
    ComposioToolFailedError,
)

__all__ = ["ComposioCalendarProvider", "ComposioCalendarService"]

MAX_DURATION_MINUTES = 24 * 60 + 59  # CREATE_EVENT takes 0-24 hours and 0-59 minutes
_STATUS = re.compile(r"\b([45]\d\d)\b")
NO_REMINDERS = (
    "Composio's Google Calendar tools cannot set reminders: set them in Google Calendar, or use the "
    "google provider"
)
NO_RULE_CHANGES = (
    "Composio's GOOGLECALENDAR_PATCH_EVENT cannot change a recurrence rule, so changing a series' rule "
    "or changing 'this and following' occurrences is not available with the composio calendar: change "
    "it in Google Calendar, or use the google provider"
)


class _Request:
    """A deferred tool call, run by `execute` like a googleapiclient request."""

    def __init__(self, run: Callable[[], dict[str, Any]]) -> None:
        self._run = run

    def execute(self, num_retries: int = 0) -> dict[str, Any]:
        return self._run()  # Composio executions are not retried: a write could happen twice


class ComposioCalendarService:
    """A googleapiclient-shaped Calendar service whose requests run Composio GOOGLECALENDAR tools."""

    def __init__(self, client: ComposioClient, account: str | None = None) -> None:
        self.client, self.account = client, account

    def run(self, slug: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.client.execute(slug, {k: v for k, v in arguments.items() if v is not None})
        except ComposioToolFailedError as exc:
            status = _STATUS.search(exc.reason)
            if exc.status is None and status:  # Google's own error, reported by the tool
                content = json.dumps({"error": {"code": int(status[1]), "message": exc.reason}}).encode()
                raise HttpError(httplib2.Response({"status": int(status[1])}), content) from exc
            raise CalendarSourceError(str(exc)) from exc
        except ComposioError as exc:
            raise CalendarSourceError(str(exc)) from exc

    def calendarList(self) -> _CalendarList:
        return _CalendarList(self)

    def events(self) -> _Events:
        return _Events(self)

    def freebusy(self) -> _FreeBusy:
        return _FreeBusy(self)


class _FreeBusy:
    def __init__(self, service: ComposioCalendarService) -> None:
        self.service = service

    def query(self, body: dict[str, Any]) -> _Request:
        # GOOGLECALENDAR_FREE_BUSY_QUERY takes freebusy.query's own body and answers its shape
        return _Request(lambda: self.service.run("GOOGLECALENDAR_FREE_BUSY_QUERY", body))


class _CalendarList:
    def __init__(self, service: ComposioCalendarService) -> None:
        self.service = service

    def list(self, **_: Any) -> _Request:
        def run() -> dict[str, Any]:
            found = self.service.run("GOOGLECALENDAR_LIST_CALENDARS", {"maxResults": 250})
            return {"items": found.get("items", found.get("calendars", []))}

        return _Request(run)


class _Events:
    def __init__(self, service: ComposioCalendarService) -> None:
        self.service = service

    def list(self, **arguments: Any) -> _Request:
        return _Request(lambda: self.service.run("GOOGLECALENDAR_EVENTS_LIST", arguments))

    def insert(self, calendarId: str, body: dict[str, Any], sendUpdates: str = "none") -> _Request:
        def run() -> dict[str, Any]:
            arguments, exact = _create_arguments(body)
            arguments.update(calendar_id=calendarId, send_updates=sendUpdates == "all")
            created = self.service.run("GOOGLECALENDAR_CREATE_EVENT", arguments)
            if exact is None:
                return created
            patch = {
                "calendar_id": calendarId,
                "event_id": created["id"],
                "send_updates": sendUpdates,
                **exact,
            }
            return self.service.run("GOOGLECALENDAR_PATCH_EVENT", patch)

        return _Request(run)

    def patch(
        self, calendarId: str, eventId: str, body: dict[str, Any], sendUpdates: str = "none"
    ) -> _Request:
        def run() -> dict[str, Any]:
            arguments = {"calendar_id": calendarId, "event_id": eventId, "send_updates": sendUpdates}
            changes = _patch_arguments(body, self.service.account)
            return self.service.run("GOOGLECALENDAR_PATCH_EVENT", arguments | changes)

        return _Request(run)

    def delete(self, calendarId: str, eventId: str, sendUpdates: str = "none") -> _Request:
        arguments = {"calendar_id": calendarId, "event_id": eventId}
        return _Request(lambda: self.service.run("GOOGLECALENDAR_DELETE_EVENT", arguments))


class ComposioCalendarProvider(GoogleCalendarProvider):
    """The Google provider over `ComposioCalendarService`; see the module docstring."""

    def __init__(self, service: ComposioCalendarService, zone: Any, organizer: str | None = None,
                 poll_seconds: float = 60.0) -> None:  # fmt: skip
        super().__init__(service, zone, organizer=organizer, poll_seconds=poll_seconds)
        self.account = service.account

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> ComposioCalendarProvider:
        """A provider over the Google Calendar connection the Composio settings name."""
        if settings.composio_api_key is None:
            raise CalendarSourceError("the composio calendar needs COMPOSIO_API_KEY")
        config = ComposioConfig.of(settings, timeout_seconds=settings.caldav_timeout_seconds)
        # the calendar server never closes its provider, so no connection is kept open between calls
        service = ComposioCalendarService(
            ComposioClient(config, keep_alive=False), account=settings.user_email
        )
        return cls(
            service, settings.zone(), organizer=settings.user_email, poll_seconds=settings.poll_seconds
        )

    async def create_event(self, draft: EventDraft) -> Event:
        if draft.reminders:
            raise InvalidEventError(NO_REMINDERS)
        return await super().create_event(draft)

    async def move_event(self, event_id: str, calendar: str) -> Event:
        raise InvalidEventError(
            "Composio's Google Calendar tools cannot move an event between calendars: move it in Google "
            "Calendar, or connect the calendar through the Google API (PEPPER_CALENDAR_PROVIDER=google)"
        )

    async def update_event(self, event_id: str, patch: EventPatch, scope: Scope | None = None) -> Event:
        if patch.reminders is not None:
            raise InvalidEventError(NO_REMINDERS)
        # Refused before anything is written: 'following' would create the new series and only then
        # fail to end the old one, leaving both.
        if (
            patch.recurrence is not None
            or resolve_scope(parse_event_id(event_id), scope, patch) == "following"
        ):
            raise InvalidEventError(NO_RULE_CHANGES)
        return await super().update_event(event_id, patch, scope)

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event:
        if self.account is None or email.lower() != self.account.lower():
            raise InvalidEventError(
                "Composio's GOOGLECALENDAR_PATCH_EVENT answers invitations only for the connected account: "
                f"set PEPPER_CALENDAR_USER_EMAIL to its address and answer for that address, not {email}"
            )
        return await super().respond_to_invite(event_id, email, response)


def _create_arguments(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """CREATE_EVENT's arguments for an insert body, and the exact times to patch in afterwards when a
    start plus a duration of at most 24:59 cannot say them (all-day and longer events)."""
    start, end = body["start"], body["end"]
    arguments: dict[str, Any] = {
        "summary": body.get("summary"),
        "location": body.get("location"),
        "description": body.get("description"),
        "attendees": [a["email"] for a in body.get("attendees", [])] or None,
        "recurrence": body.get("recurrence"),
        "transparency": body.get("transparency"),
        "visibility": body.get("visibility"),
    }
    if "dateTime" not in start or "dateTime" not in end:
        arguments.update(start_datetime=f"{start['date']}T00:00:00", event_duration_hour=0,
                         event_duration_minutes=30)  # fmt: skip
        return arguments, {"start_time": start["date"], "end_time": end["date"]}
    zone = start.get("timeZone") or "UTC"
    begins, ends = _aware(start["dateTime"]), _aware(end["dateTime"])
    minutes = int((ends - begins).total_seconds() // 60)
    local = begins.astimezone(_zone(zone)).replace(tzinfo=None)
    arguments.update(start_datetime=local.isoformat(timespec="seconds"), timezone=zone)
    if minutes > MAX_DURATION_MINUTES:
        arguments.update(event_duration_hour=0, event_duration_minutes=30)
        return arguments, {"start_time": start["dateTime"], "end_time": end["dateTime"], "timezone": zone}
    arguments.update(event_duration_hour=minutes // 60, event_duration_minutes=minutes % 60)
    return arguments, None


def _patch_arguments(body: dict[str, Any], account: str | None) -> dict[str, Any]:
    if "recurrence" in body:
        raise CalendarSourceError(NO_RULE_CHANGES)
    arguments: dict[str, Any] = {key: body.get(key) for key in ("summary", "location", "description")}
    attendees = body.get("attendees")
    if attendees and any("responseStatus" in a for a in attendees):
        # respond_to_invite: the connected account's own answer is the one that changed
        return arguments | {"rsvp_response": _own_response(attendees, account)}
    if attendees is not None:
        arguments["attendees"] = [a["email"] for a in attendees]
    for key, name in (("start", "start_time"), ("end", "end_time")):
        if key in body:
            arguments[name] = body[key].get("dateTime") or body[key].get("date")
            arguments["timezone"] = body[key].get("timeZone") or arguments.get("timezone")
    return arguments


def _own_response(attendees: list[dict[str, Any]], account: str | None) -> str:
    for attendee in attendees:
        if account and str(attendee.get("email", "")).lower() == account.lower():
            return str(attendee.get("responseStatus", "needsAction"))
    raise InvalidEventError(f"the connected account {account} is not invited to this event")


def _aware(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise InvalidEventError(f"{moment} has no UTC offset")
    return parsed


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidEventError(f"unknown timezone {name!r}") from exc
