"""What the ICS and CalDAV providers share: reads and edits over calendars held as parsed iCalendar.

Both backends end up with the same thing per calendar, a `ParsedCalendar`, and differ only in how
they get it (a file, a server) and how an edit is stored (rewrite the file, PUT one object). So
`ParsedProvider` implements the `CalendarProvider` reads and writes once, over four hooks:
`_refresh()` (the calendars, current), `_info()`, `_edit_target()` (the iCalendar to change for a
UID) and `_store()` (save it). Blocking work runs in a worker thread, one call at a time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeVar

import anyio
import icalendar

from mcp_servers.calendar.errors import (
    CalendarSourceError,
    EventNotFoundError,
    InvalidEventError,
    WriteNotAllowedError,
)
from mcp_servers.calendar.event_ids import EventRef, parse_event_id
from mcp_servers.calendar.ics import ParsedCalendar, expand, expand_cached
from mcp_servers.calendar.ics_events import component_to_event, sort_key
from mcp_servers.calendar.ics_write import (
    apply_patch,
    delete_from,
    find_component,
    new_event,
    override_for,
    set_response,
)
from mcp_servers.calendar.models import CalendarInfo, Event, EventList, ResponseStatus
from mcp_servers.calendar.provider import AttendeeBusy, EventDraft, EventPatch, Fingerprint, Scope
from mcp_servers.calendar.recurrence_edit import (
    resolve_scope,
    set_rule,
    shift_exceptions,
    shifted_patch,
    split_series,
)

__all__ = ["ParsedProvider", "Source"]

T = TypeVar("T")


@dataclass
class Source:
    """One calendar: its id, where it lives, and its parsed content (or why there is none)."""

    id: str
    location: str
    parsed: ParsedCalendar | None = None
    error: str | None = None
    fingerprints: dict[str, Fingerprint] | None = field(default=None, repr=False)


class ParsedProvider:
    """Reads and edits for any backend that can hand over parsed calendars; see the module docstring."""

    def __init__(self, zone: tzinfo, organizer: str | None) -> None:
        self._zone = zone
        self._organizer = organizer
        self._lock = threading.Lock()

    # -- hooks -----------------------------------------------------------------------------------

    def _refresh(self) -> list[Source]:
        raise NotImplementedError

    def _info(self, source: Source) -> CalendarInfo:
        raise NotImplementedError

    def _edit_target(self, source: Source, uid: str | None) -> icalendar.Calendar:
        """The iCalendar holding `uid` (None: where a new event goes), ready to be changed."""
        raise NotImplementedError

    def _store(self, source: Source, uid: str, calendar: icalendar.Calendar) -> None:
        """Save `calendar` after an edit of `uid`; afterwards `_refresh()` must show the change."""
        raise NotImplementedError

    def _writable(self, source: Source) -> bool:
        raise NotImplementedError

    def _discard(self, source: Source) -> None:
        """An edit failed half-way: forget any in-memory state it may have touched."""

    # -- plumbing --------------------------------------------------------------------------------

    async def _run(self, function: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return function()

        return await anyio.to_thread.run_sync(locked, abandon_on_cancel=True)

    def _source(self, calendar: str) -> Source:
        for source in self._refresh():
            if source.id == calendar:
                if source.parsed is None:
                    raise CalendarSourceError(f"calendar {calendar!r} cannot be read: {source.error}")
                return source
        raise CalendarSourceError(f"no calendar {calendar!r}; list_calendars names the calendars there are")

    # -- reads -----------------------------------------------------------------------------------

    async def list_calendars(self) -> list[CalendarInfo]:
        return await self._run(lambda: [self._info(source) for source in self._refresh()])

    async def list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList:
        return await self._run(lambda: self._list_events(start, end, calendars, limit))

    def _list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList:
        sources = self._refresh()
        if calendars:
            unknown = set(calendars) - {source.id for source in sources}
            if unknown:
                raise CalendarSourceError(
                    f"no calendar {', '.join(sorted(unknown))}; list_calendars names the calendars there are"
                )
            sources = [source for source in sources if source.id in calendars]
        result = EventList(events=[])
        start, end = start.astimezone(self._zone), end.astimezone(self._zone)
        for source in sources:
            if source.parsed is None:
                result.errors.append(source.error or f"{source.location}: unreadable")
                continue
            expansion = expand_cached(source.parsed, source.id, start, end, self._zone, limit)
            result.events.extend(expansion.events)
            result.truncated |= expansion.truncated
            result.errors.extend(f"{source.id}: {note}" for note in expansion.notes)
        result.events.sort(key=lambda event: sort_key(event.start, self._zone))
        result.truncated |= len(result.events) > limit
        del result.events[limit:]
        return result

    async def get_event(self, event_id: str) -> Event:
        return await self._run(lambda: self._get_event(parse_event_id(event_id)))

    def _get_event(self, ref: EventRef) -> Event:
        source = self._source(ref.calendar)
        assert source.parsed is not None
        component = find_component(source.parsed.calendar, ref.uid, ref.recurrence)
        if component is not None:
            recurring = ref.recurrence is not None or any(n in component for n in ("RRULE", "RDATE"))
            return component_to_event(component, source.id, self._zone, recurring=recurring)
        if ref.recurrence is not None:
            moment = _moment_of(ref.recurrence, self._zone)
            window = expand(source.parsed, source.id, moment, moment + timedelta(days=1), self._zone, 10_000)
            wanted = f"{ref.series_id}:{ref.recurrence}"
            found = next((event for event in window.events if event.id == wanted), None)
            if found is not None:
                return found
        raise EventNotFoundError(f"no event {ref.series_id}{':' + ref.recurrence if ref.recurrence else ''}")

    async def attendee_busy(self, attendees: list[str], start: datetime, end: datetime) -> AttendeeBusy:
        """Files hold no one else's free/busy: every attendee is reported as unread."""
        reason = (
            "no free/busy source for other people here: only the events in your calendars that "
            "they attend are counted"
        )
        return AttendeeBusy(unread=dict.fromkeys(attendees, reason))

    async def fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        return await self._run(self._fingerprints)

    def _fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        result: dict[str, dict[str, Fingerprint]] = {}
        for source in self._refresh():
            if source.parsed is None:
                continue  # an unreadable calendar is not a deletion of everything in it
            if source.fingerprints is None:
                source.fingerprints = _series_fingerprints(source.parsed.calendar)
            result[source.id] = source.fingerprints
        return result

    # -- writes ----------------------------------------------------------------------------------

    def _writable_source(self, calendar: str) -> Source:
        source = self._source(calendar)
        if not self._writable(source):
            raise WriteNotAllowedError(
                f"{source.location} is read-only; make it writable or pick another calendar"
            )
        return source

    async def create_event(self, draft: EventDraft) -> Event:
        return await self._run(lambda: self._create_event(draft))

    def _create_event(self, draft: EventDraft) -> Event:
        source = self._writable_source(draft.calendar or self._default_calendar())
        component = new_event(draft, self._organizer, self._zone)
        uid = str(component["UID"])
        calendar = self._edit_target(source, None)
        try:
            calendar.add_component(component)
            self._store(source, uid, calendar)
        except BaseException:
            self._discard(source)
            raise
        return self._get_event(EventRef(source.id, uid))

    def _default_calendar(self) -> str:
        readable = [source for source in self._refresh() if source.parsed is not None]
        for source in readable:
            if self._writable(source):
                return source.id
        where = ", ".join(source.location for source in readable)
        raise WriteNotAllowedError(
            f"no writable calendar: {where or 'none could be read'}"
            + (" read-only (a read-only mount or file); make it writable" if where else "")
            + ", or pass a writable .ics file or a CalDAV calendar"
        )

    def _edit(self, ref: EventRef, change: Callable[[icalendar.Calendar], None]) -> None:
        source = self._writable_source(ref.calendar)
        if ref.recurrence is not None:
            self._get_event(ref)  # the occurrence must exist (not excluded, not beyond the rule)
        calendar = self._edit_target(source, ref.uid)
        try:
            change(calendar)
            self._store(source, ref.uid, calendar)
        except BaseException:
            self._discard(source)
            raise

    def _component(self, calendar: icalendar.Calendar, ref: EventRef) -> icalendar.Event:
        if ref.recurrence is not None:
            return override_for(calendar, ref.uid, ref.recurrence)
        component = find_component(calendar, ref.uid, None)
        if component is None:
            raise EventNotFoundError(f"no event {ref.series_id}")
        return component

    async def update_event(self, event_id: str, patch: EventPatch, scope: Scope | None = None) -> Event:
        ref = parse_event_id(event_id)
        resolved = resolve_scope(ref, scope, patch)
        if resolved == "instance":
            return await self._run(lambda: self._update_instance(ref, patch))
        if resolved == "series":
            return await self._run(lambda: self._update_series(ref, patch))
        return await self._run(lambda: self._update_following(ref, patch))

    def _update_instance(self, ref: EventRef, patch: EventPatch) -> Event:
        if patch.cancel:
            self._edit(ref, lambda calendar: delete_from(calendar, ref.uid, ref.recurrence))
            return self._get_event(EventRef(ref.calendar, ref.uid))

        def change(calendar: icalendar.Calendar) -> None:
            apply_patch(self._component(calendar, ref), patch, self._organizer, self._zone)

        self._edit(ref, change)
        return self._get_event(ref)

    def _update_series(self, ref: EventRef, patch: EventPatch) -> Event:
        if patch.cancel:
            raise InvalidEventError("to cancel a whole series, delete it with delete_event")
        series = EventRef(ref.calendar, ref.uid)
        occurrence = self._get_event(ref) if ref.recurrence else None
        shifted = shifted_patch(patch, self._get_event(series), occurrence)

        def change(calendar: icalendar.Calendar) -> None:
            master = self._component(calendar, series)
            before = master["DTSTART"].dt
            apply_patch(master, shifted, self._organizer, self._zone)
            if type(before) is type(master["DTSTART"].dt):
                shift_exceptions(calendar.walk("VEVENT"), ref.uid, master["DTSTART"].dt - before)
            if patch.recurrence is not None:
                set_rule(master, patch.recurrence, self._zone)
            elif "RRULE" in master:  # an UNTIL must stay the kind of value DTSTART now is
                set_rule(master, master["RRULE"].to_ical().decode(), self._zone)

        self._edit(series, change)
        return self._get_event(series)

    def _update_following(self, ref: EventRef, patch: EventPatch) -> Event:
        """Split the series at `ref`: the old one ends before it, a new one (unless cancelled) starts."""
        assert ref.recurrence is not None
        source = self._writable_source(ref.calendar)
        occurrence = self._get_event(ref)
        old = self._edit_target(source, ref.uid)
        try:
            successor = split_series(old, ref.uid, ref.recurrence, self._zone)
            new_uid = str(successor[0]["UID"])
            if patch.cancel:
                self._store(source, ref.uid, old)
            else:
                self._start_successor(source, successor, patch, occurrence, old)
        except BaseException:
            self._discard(source)
            raise
        return self._get_event(EventRef(source.id, ref.uid if patch.cancel else new_uid))

    def _start_successor(
        self,
        source: Source,
        components: list[icalendar.Event],
        patch: EventPatch,
        occurrence: Event,
        old: icalendar.Calendar,
    ) -> None:
        """Store the shortened series `old` and the new one made of `components`."""
        master = components[0]
        old_uid = master["RELATED-TO"]
        as_event = component_to_event(master, source.id, self._zone, recurring=True)
        first = master["DTSTART"].dt
        apply_patch(master, shifted_patch(patch, as_event, occurrence), self._organizer, self._zone)
        if type(first) is type(master["DTSTART"].dt):
            shift_exceptions(components, str(master["UID"]), master["DTSTART"].dt - first)
        if patch.recurrence is not None:
            set_rule(master, patch.recurrence, self._zone)
        target = self._edit_target(source, None)
        if target is not old:  # one object per series: the old one is stored first, as the
            self._store(source, str(old_uid), old)  # new one's RELATED-TO may update it
        for component in components:
            target.add_component(component)
        self._store(source, str(master["UID"]), target)

    async def delete_event(self, event_id: str) -> None:
        ref = parse_event_id(event_id)
        await self._run(
            lambda: self._edit(ref, lambda calendar: delete_from(calendar, ref.uid, ref.recurrence))
        )

    async def move_event(self, event_id: str, calendar: str) -> Event:
        ref = parse_event_id(event_id)
        return await self._run(lambda: self._move_event(EventRef(ref.calendar, ref.uid), calendar))

    def _move_event(self, series: EventRef, calendar: str) -> Event:
        """Copy the series into `calendar`, then take it out of its own: a failure between the two
        leaves it in both (reported), never in neither."""
        if calendar == series.calendar:
            raise InvalidEventError(f"the event is already in calendar {calendar!r}")
        source, target = self._writable_source(series.calendar), self._writable_source(calendar)
        self._get_event(series)
        old = self._edit_target(source, series.uid)
        components = [
            c for c in old.subcomponents if c.name == "VEVENT" and str(c.get("UID", "")) == series.uid
        ]
        new = self._edit_target(target, None)
        try:
            zones = {str(c.get("TZID")) for c in new.subcomponents if c.name == "VTIMEZONE"}
            for zone in (c for c in old.subcomponents if c.name == "VTIMEZONE"):
                if str(zone.get("TZID")) not in zones:
                    new.add_component(zone)
            for component in components:
                new.add_component(component)
            self._store(target, series.uid, new)
        except BaseException:
            self._discard(target)
            raise
        try:
            delete_from(old, series.uid, None)
            self._store(source, series.uid, old)
        except BaseException as exc:
            self._discard(source)
            raise CalendarSourceError(
                f"the event was copied to {calendar!r} but could not be taken out of {series.calendar!r} "
                f"({exc}): delete it there with delete_event"
            ) from exc
        return self._get_event(EventRef(target.id, series.uid))

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event:
        ref = parse_event_id(event_id)

        def respond() -> Event:
            self._edit(ref, lambda calendar: set_response(self._component(calendar, ref), email, response))
            return self._get_event(ref)

        return await self._run(respond)


def _moment_of(recurrence: str, zone: tzinfo) -> datetime:
    try:
        if len(recurrence) == 8:
            return datetime.strptime(recurrence, "%Y%m%d").replace(tzinfo=zone)
        return datetime.strptime(recurrence, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidEventError(f"{recurrence!r} is not a recurrence id like 20260105T090000Z") from exc


def _series_fingerprints(calendar: icalendar.Calendar) -> dict[str, Fingerprint]:
    grouped: dict[str, list[bytes]] = {}
    titles: dict[str, str | None] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", ""))
        grouped.setdefault(uid, []).append(component.to_ical())
        if "RECURRENCE-ID" not in component or uid not in titles:
            titles[uid] = str(component["SUMMARY"]) if "SUMMARY" in component else None
    return {
        uid: (hashlib.sha256(b"".join(sorted(parts))).hexdigest(), titles.get(uid))
        for uid, parts in grouped.items()
    }
