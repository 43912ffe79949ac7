"""The Google Calendar API provider: incremental sync with syncToken, events read as iCalendar.

Each calendar of the account is synchronised with `events.list`: a full listing the first time,
then only what changed since the last `nextSyncToken` (a 410 GONE starts over with a full one).
The synchronised events are turned into VEVENTs (Google keeps RRULE/EXDATE/RDATE lines in
`recurrence`, exceptions as events with `recurringEventId`, cancelled occurrences as cancelled
exceptions, which become EXDATEs), so expansion, ids and free/busy are those of the other backends.
Writes go straight to the API: insert, patch (an occurrence is `<id>_<recurrence key>`, which is
also Google's instance id) and delete; invitations are sent by Google (`sendUpdates=all`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

import anyio
import httplib2
import icalendar
from google.auth.exceptions import GoogleAuthError
from googleapiclient.errors import HttpError

from mcp_servers.calendar.errors import CalendarSourceError, EventNotFoundError, InvalidEventError
from mcp_servers.calendar.event_ids import EventRef, parse_event_id
from mcp_servers.calendar.google_events import (
    COPIED,
    google_details,
    google_moment,
    read_freebusy,
    rule_lines,
    to_icalendar,
)
from mcp_servers.calendar.ics import prepare
from mcp_servers.calendar.ics_events import sort_key
from mcp_servers.calendar.ics_write import check_times
from mcp_servers.calendar.models import CalendarInfo, Event, ResponseStatus
from mcp_servers.calendar.parsed_provider import ParsedProvider, Source
from mcp_servers.calendar.provider import AttendeeBusy, EventDraft, EventPatch, OnChange
from mcp_servers.calendar.recurrence_edit import original_start, shifted_patch
from mcp_servers.calendar.rrules import fit_rule, parse_rule, split_rule
from mcp_servers.calendar.settings import CalendarSettings

__all__ = ["GoogleCalendarProvider"]

logger = logging.getLogger(__name__)
DISCOVERY_SECONDS = 300.0
SCOPES = ["https://www.googleapis.com/auth/calendar"]
_TO_GOOGLE = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "needs-action": "needsAction",
}


@dataclass
class _GoogleSource(Source):
    google_id: str = ""
    name: str | None = None
    token: str | None = None
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    masters: dict[str, str] = field(default_factory=dict)  # iCalUID -> Google event id
    access_role: str = "owner"  # calendarList's accessRole


class GoogleCalendarProvider(ParsedProvider):
    """Calendars of one Google account through a `googleapiclient` service; see the module docstring."""

    def __init__(
        self, service: Any, zone: tzinfo, organizer: str | None = None, poll_seconds: float = 60.0
    ) -> None:
        super().__init__(zone, organizer)
        self._service, self._poll = service, poll_seconds
        self._sources: dict[str, _GoogleSource] = {}
        self._discovered_at = -DISCOVERY_SECONDS

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> GoogleCalendarProvider:
        """A provider over the account whose OAuth token file the settings name."""
        from google.oauth2.credentials import Credentials
        from google_auth_httplib2 import AuthorizedHttp
        from googleapiclient.discovery import build

        assert settings.google_token_file is not None
        try:
            credentials = Credentials.from_authorized_user_file(str(settings.google_token_file), SCOPES)
        except (OSError, ValueError) as exc:
            raise CalendarSourceError(
                f"cannot read the Google token file {settings.google_token_file}: {exc}"
            ) from exc
        http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=settings.caldav_timeout_seconds))
        options = {"api_endpoint": settings.google_api_endpoint} if settings.google_api_endpoint else None
        service = build("calendar", "v3", http=http, static_discovery=True, client_options=options)
        return cls(
            service, settings.zone(), organizer=settings.user_email, poll_seconds=settings.poll_seconds
        )

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except HttpError as exc:
            status = exc.resp.status
            hint = {401: "sign in again", 403: "check the granted scopes", 404: "check the id"}.get(
                status, "try later"
            )
            raise CalendarSourceError(f"Google Calendar answered {status}: {exc.reason}; {hint}") from exc
        except GoogleAuthError as exc:
            raise CalendarSourceError(
                f"Google sign-in failed ({exc}): refresh or replace PEPPER_CALENDAR_GOOGLE_TOKEN_FILE"
            ) from exc
        except (TimeoutError, httplib2.HttpLib2Error, OSError) as exc:
            raise CalendarSourceError(f"cannot reach Google Calendar: {exc}") from exc

    def _execute(self, request: Any) -> Any:
        with self._translated():
            return request.execute(num_retries=2)

    # -- reading ---------------------------------------------------------------------------------

    def _refresh(self) -> list[Source]:
        if time.monotonic() - self._discovered_at > DISCOVERY_SECONDS or not self._sources:
            listing = self._execute(self._service.calendarList().list())
            found = {}
            for entry in listing.get("items", []):
                calendar_id = _slug(entry["id"])
                source = self._sources.get(calendar_id) or _GoogleSource(
                    calendar_id, entry["id"], google_id=entry["id"]
                )
                source.name = entry.get("summaryOverride") or entry.get("summary")
                source.access_role = entry.get("accessRole", "owner")
                found[calendar_id] = source
            self._sources, self._discovered_at = found, time.monotonic()
        for source in self._sources.values():
            try:
                self._sync(source)
            except CalendarSourceError as exc:
                source.error = str(exc)
        return list(self._sources.values())

    def _sync(self, source: _GoogleSource) -> None:
        try:
            changed = self._pages(source, source.token)
        except CalendarSourceError as exc:
            if source.token is None or "answered 410" not in str(exc):
                raise
            source.token, source.items = None, {}  # the token expired: start over
            changed = self._pages(source, None)
        if changed or source.parsed is None:
            calendar, source.masters = to_icalendar(source.items.values())
            source.parsed, source.fingerprints, source.error = prepare(calendar, source.location), None, None

    def _pages(self, source: _GoogleSource, token: str | None) -> bool:
        changed, page = False, None
        while True:
            arguments = {"calendarId": source.google_id, "maxResults": 250, "pageToken": page}
            arguments.update({"syncToken": token} if token else {"showDeleted": False})
            result = self._execute(self._service.events().list(**arguments))
            for item in result.get("items", []):
                changed = True
                if item.get("status") == "cancelled" and "recurringEventId" not in item:
                    source.items.pop(item["id"], None)
                else:
                    source.items[item["id"]] = item
            page = result.get("nextPageToken")
            if page is None:
                source.token = result.get("nextSyncToken")
                return changed

    def _info(self, source: Source) -> CalendarInfo:
        assert isinstance(source, _GoogleSource)
        warnings = source.parsed.notes if source.parsed else []
        return CalendarInfo(
            id=source.id, name=source.name or source.id, source=f"google:{source.google_id}",
            writable=self._writable(source), access_role=source.access_role, error=source.error,
            warnings=warnings,
        )  # fmt: skip

    def _writable(self, source: Source) -> bool:
        assert isinstance(source, _GoogleSource)
        return source.access_role in ("owner", "writer")

    # -- writing ---------------------------------------------------------------------------------

    def _google_id(self, ref: EventRef) -> tuple[_GoogleSource, str]:
        source = self._source(ref.calendar)
        assert isinstance(source, _GoogleSource)
        master = source.masters.get(ref.uid)
        if master is None:
            raise EventNotFoundError(f"no event {ref.series_id}")
        return source, master if ref.recurrence is None else f"{master}_{ref.recurrence}"

    def _times(self, start: date, end: date) -> dict[str, Any]:
        start, end = check_times(start, end, self._zone)
        return {"start": self._when(start), "end": self._when(end)}

    def _when(self, moment: date) -> dict[str, str]:
        if not isinstance(moment, datetime):
            return {"date": moment.isoformat()}
        zone = getattr(moment.tzinfo, "key", None) or getattr(self._zone, "key", "UTC")
        return {"dateTime": moment.isoformat(), "timeZone": zone}

    async def create_event(self, draft: EventDraft) -> Event:
        def create() -> Event:
            source = self._writable_source(draft.calendar or self._default_calendar())
            assert isinstance(source, _GoogleSource)
            body = {"summary": draft.title, **self._times(draft.start, draft.end), **google_details(draft)}
            if draft.recurrence:
                start = check_times(draft.start, draft.end, self._zone)[0]
                rule = fit_rule(parse_rule(draft.recurrence), start, self._zone)
                body["recurrence"] = [f"RRULE:{rule.to_ical().decode()}"]
            request = self._service.events().insert(
                calendarId=source.google_id, body=body, sendUpdates="all" if draft.attendees else "none"
            )
            created = self._execute(request)
            return self._get_event(EventRef(source.id, created.get("iCalUID", created["id"])))

        return await self._run(create)

    def _body(self, patch: EventPatch, current: Event) -> dict[str, Any]:
        body: dict[str, Any] = google_details(patch)
        if patch.title is not None:
            body["summary"] = patch.title
        if patch.start is not None or patch.end is not None:
            start = patch.start if patch.start is not None else current.start
            end = patch.end if patch.end is not None else start + (current.end - current.start)
            body.update(self._times(start, end))
        return body

    def _patch(self, source: _GoogleSource, google_id: str, body: dict[str, Any]) -> None:
        request = self._service.events().patch(
            calendarId=source.google_id, eventId=google_id, body=body, sendUpdates="all"
        )
        self._execute(request)

    def _update_instance(self, ref: EventRef, patch: EventPatch) -> Event:
        current = self._get_event(ref)
        source, google_id = self._google_id(ref)
        series = EventRef(ref.calendar, ref.uid)
        if patch.cancel:
            request = self._service.events().delete(
                calendarId=source.google_id, eventId=google_id, sendUpdates="all"
            )
            self._execute(request)
            return self._get_event(series)
        self._patch(source, google_id, self._body(patch, current))
        return self._get_event(ref)

    def _update_series(self, ref: EventRef, patch: EventPatch) -> Event:
        if patch.cancel:
            raise InvalidEventError("to cancel a whole series, delete it with delete_event")
        series = EventRef(ref.calendar, ref.uid)
        master = self._get_event(series)
        occurrence = self._get_event(ref) if ref.recurrence else None
        shifted = shifted_patch(patch, master, occurrence)
        source, google_id = self._google_id(series)
        body = self._body(shifted, master)
        if patch.recurrence is not None:
            start = shifted.start if shifted.start is not None else master.start
            _, others = rule_lines(source.items[google_id])
            rule = fit_rule(parse_rule(patch.recurrence), start, self._zone)
            body["recurrence"] = [f"RRULE:{rule.to_ical().decode()}", *others]
        self._patch(source, google_id, body)
        return self._get_event(series)

    def _update_following(self, ref: EventRef, patch: EventPatch) -> Event:
        """Google's way: the series ends before the occurrence; a new event carries the rest."""
        assert ref.recurrence is not None
        occurrence = self._get_event(ref)
        series = EventRef(ref.calendar, ref.uid)
        source, google_id = self._google_id(series)
        item = source.items[google_id]
        rule, others = rule_lines(item)
        dtstart = google_moment(item["start"])
        at = original_start(dtstart, ref.recurrence, self._zone)
        if rule is None or sort_key(at, self._zone) <= sort_key(dtstart, self._zone):
            raise InvalidEventError(
                "'this and following' needs a later occurrence of a series with a rule: "
                "for the first occurrence use scope 'series'"
            )
        before, after = split_rule(rule, dtstart, at)
        created: dict[str, Any] | None = None
        if not patch.cancel:
            created = self._insert_successor(source, item, at, after, patch, occurrence)
        self._patch(source, google_id, {"recurrence": [f"RRULE:{before.to_ical().decode()}", *others]})
        if created is None:
            return self._get_event(series)
        return self._get_event(EventRef(source.id, created.get("iCalUID", created["id"])))

    def _insert_successor(
        self,
        source: _GoogleSource,
        item: dict[str, Any],
        at: date,
        rule: icalendar.vRecur,
        patch: EventPatch,
        occurrence: Event,
    ) -> dict[str, Any]:
        first = occurrence.model_copy(
            update={"start": at, "end": at + (google_moment(item["end"]) - google_moment(item["start"]))}
        )
        shifted = shifted_patch(patch, first, occurrence)
        body = {key: item[key] for key in COPIED if key in item}
        body.update(self._times(first.start, first.end))
        body.update(self._body(shifted, first))
        start = shifted.start if shifted.start is not None else first.start
        if patch.recurrence is not None:
            rule = fit_rule(parse_rule(patch.recurrence), start, self._zone)
        body["recurrence"] = [f"RRULE:{rule.to_ical().decode()}"]
        request = self._service.events().insert(
            calendarId=source.google_id, body=body, sendUpdates="all" if body.get("attendees") else "none"
        )
        return self._execute(request)

    def _move_event(self, series: EventRef, calendar: str) -> Event:
        """Google's own `events.move` (the event keeps its id; attendees are not told)."""
        if calendar == series.calendar:
            raise InvalidEventError(f"the event is already in calendar {calendar!r}")
        self._writable_source(series.calendar)
        target = self._writable_source(calendar)
        assert isinstance(target, _GoogleSource)
        self._get_event(series)
        source, google_id = self._google_id(series)
        self._execute(
            self._service.events().move(
                calendarId=source.google_id,
                eventId=google_id,
                destination=target.google_id,
                sendUpdates="none",
            )
        )
        self._sync(source)
        self._sync(target)
        return self._get_event(EventRef(target.id, series.uid))

    async def delete_event(self, event_id: str) -> None:
        ref = parse_event_id(event_id)

        def delete() -> None:
            self._get_event(ref)
            source, google_id = self._google_id(ref)
            self._execute(
                self._service.events().delete(
                    calendarId=source.google_id, eventId=google_id, sendUpdates="all"
                )
            )
            self._sync(source)

        await self._run(delete)

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event:
        ref = parse_event_id(event_id)

        def respond() -> Event:
            current = self._get_event(ref)
            if email.lower() not in {(a.email or "").lower() for a in current.attendees}:
                raise InvalidEventError(
                    f"{email} is not invited to this event, so there is no invitation to answer"
                )
            source, google_id = self._google_id(ref)
            attendees = [
                {
                    "email": a.email,
                    "responseStatus": _TO_GOOGLE[
                        response if (a.email or "").lower() == email.lower() else a.response
                    ],
                }
                for a in current.attendees
            ]
            body = {"attendees": attendees}
            self._execute(
                self._service.events().patch(calendarId=source.google_id, eventId=google_id, body=body)
            )
            return self._get_event(ref)

        return await self._run(respond)

    async def attendee_busy(self, attendees: list[str], start: datetime, end: datetime) -> AttendeeBusy:
        """Each attendee's busy time from Google's freebusy.query (their primary calendar)."""
        freebusy = getattr(self._service, "freebusy", None)
        if freebusy is None:
            reason = "this Google Calendar connection offers no free/busy query"
            return AttendeeBusy(unread=dict.fromkeys(attendees, reason))
        body = {
            "timeMin": start.isoformat(),
            "timeMax": end.isoformat(),
            "items": [{"id": email} for email in attendees],
        }
        answer = await self._run(lambda: self._execute(freebusy().query(body=body)))
        return read_freebusy(answer, attendees)

    async def watch(self, on_change: OnChange) -> None:
        """Run the incremental sync every poll interval; report when it brought anything."""
        while True:
            await anyio.sleep(self._poll)
            try:
                before = {source.id: source.token for source in self._sources.values()}
                await self._run(self._refresh)
                if before != {source.id: source.token for source in self._sources.values()}:
                    await on_change()
            except CalendarSourceError as exc:
                logger.warning("Google Calendar sync failed: %s", exc)


def _slug(calendar_id: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", calendar_id.lower().split("@")[0]).strip("-") or "calendar"
