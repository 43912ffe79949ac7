"""Changing iCalendar data: new events, edits, deletions, answers to invitations, atomic file writes.

These are plain functions over `icalendar` components. An edit or deletion of one occurrence of a
series works the iCalendar way: an override component with a RECURRENCE-ID, or an EXDATE on the
series. Files are replaced atomically (a temporary file in the same folder, fsync, rename), so a
reader never sees half a calendar, whatever happens during the write.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

import icalendar
from icalendar.cal import Component

from mcp_servers.calendar.errors import EventNotFoundError, InvalidEventError
from mcp_servers.calendar.event_ids import recurrence_key
from mcp_servers.calendar.ics_events import aware, sort_key
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.reminders import set_reminders
from mcp_servers.calendar.rrules import fit_rule, parse_rule

__all__ = [
    "apply_patch",
    "atomic_write",
    "bump_sequence",
    "check_times",
    "delete_from",
    "find_component",
    "new_event",
    "set_response",
]

_SERIES_ONLY = ("RRULE", "RDATE", "EXDATE")


def check_times(start: date, end: date, zone: tzinfo) -> tuple[date, date]:
    """Both dates, or both datetimes (floating ones read in `zone`), with end after start."""
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise InvalidEventError(
            "start and end must both be dates (all-day) or both be date-times; got one of each"
        )
    start, end = aware(start, zone), aware(end, zone)
    if sort_key(end, zone) <= sort_key(start, zone):
        raise InvalidEventError(f"the event ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return start, end


def new_event(draft: EventDraft, organizer: str | None, zone: tzinfo) -> Component:
    """A VEVENT for `draft`, with a fresh UID; invitees get PARTSTAT=NEEDS-ACTION and RSVP."""
    start, end = check_times(draft.start, draft.end, zone)
    event = icalendar.Event()
    event.add("UID", f"{uuid.uuid4()}@pepper")
    event.add("DTSTAMP", datetime.now(UTC))
    event.add("SEQUENCE", 0)
    event.add("SUMMARY", draft.title)
    event.add("DTSTART", start)
    event.add("DTEND", end)
    if draft.recurrence:
        event.add("RRULE", fit_rule(parse_rule(draft.recurrence), start, zone))
    _set_optional(event, draft.location, draft.description, draft.conference_link)
    if draft.attendees:
        _set_attendees(event, draft.attendees, organizer)
    if draft.reminders:
        set_reminders(event, draft.reminders)
    return event


def _set_optional(event: Component, location: str | None, description: str | None, link: str | None) -> None:
    for name, value in (("LOCATION", location), ("DESCRIPTION", description), ("CONFERENCE", link)):
        if value is None:
            continue
        event.pop(name, None)
        if value:
            event.add(name, value, parameters={"VALUE": "URI"} if name == "CONFERENCE" else None)


def _set_attendees(event: Component, emails: list[str], organizer: str | None) -> None:
    known = {str(a).lower().removeprefix("mailto:"): a for a in _as_list(event.get("ATTENDEE"))}
    event.pop("ATTENDEE", None)
    for email in emails:
        address = email.strip()
        if "@" not in address:
            raise InvalidEventError(f"{email!r} is not an e-mail address; invite people by address")
        previous = known.get(address.lower())
        if previous is not None:
            event.add("ATTENDEE", previous)
            continue
        params = {"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE", "ROLE": "REQ-PARTICIPANT"}
        event.add("ATTENDEE", f"mailto:{address}", parameters=params)
    if emails and organizer and "ORGANIZER" not in event:
        event.add("ORGANIZER", f"mailto:{organizer}")


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def find_component(calendar: icalendar.Calendar, uid: str, recurrence: str | None) -> Component | None:
    """The series master (recurrence None) or the override for one occurrence, if present."""
    for component in calendar.walk("VEVENT"):
        if str(component.get("UID", "")) != uid:
            continue
        rid = component.get("RECURRENCE-ID")
        if recurrence is None and rid is None:
            return component
        if recurrence is not None and rid is not None and _key(rid.dt) == recurrence:
            return component
    return None


def _key(moment: date) -> str:
    return recurrence_key(aware(moment, UTC))


def override_for(calendar: icalendar.Calendar, uid: str, recurrence: str) -> Component:
    """The override component for one occurrence, made from the master when there is none yet."""
    existing = find_component(calendar, uid, recurrence)
    if existing is not None:
        return existing
    master = find_component(calendar, uid, None)
    if master is None or not any(name in master for name in ("RRULE", "RDATE")):
        raise EventNotFoundError(f"no recurring event with UID {uid} in this calendar")
    original = _from_key(recurrence, master["DTSTART"].dt)
    override = icalendar.Event()
    for name, value in master.property_items(recursive=False):
        if name not in ("BEGIN", "END", "DTSTART", "DTEND", "DURATION", *_SERIES_ONLY):
            override.add(name, value, encode=False)
    duration = duration_of(master)
    override.add("RECURRENCE-ID", original)
    override.add("DTSTART", original)
    override.add("DTEND", original + duration)
    calendar.add_component(override)
    return override


def _from_key(recurrence: str, like: date) -> date:
    if len(recurrence) == 8:
        return datetime.strptime(recurrence, "%Y%m%d").date()
    moment = datetime.strptime(recurrence, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if isinstance(like, datetime) and like.tzinfo is not None:
        return moment.astimezone(like.tzinfo)
    return moment


def duration_of(component: Component) -> timedelta:
    """How long one occurrence lasts: DTEND - DTSTART, DURATION, else 0 (timed) or 1 day (all-day)."""
    if "DTEND" in component:
        return component["DTEND"].dt - component["DTSTART"].dt
    if "DURATION" in component:
        return component["DURATION"].dt
    return timedelta(days=1) if not isinstance(component["DTSTART"].dt, datetime) else timedelta(0)


def apply_patch(component: Component, patch: EventPatch, organizer: str | None, zone: tzinfo) -> None:
    """Change the fields `patch` sets; times are checked together; SEQUENCE goes up by one."""
    if patch.start is not None or patch.end is not None:
        old_start = component["DTSTART"].dt
        start = patch.start if patch.start is not None else old_start
        end = patch.end if patch.end is not None else start + duration_of(component)
        start, end = check_times(start, end, zone)
        for name in ("DTSTART", "DTEND", "DURATION"):
            component.pop(name, None)
        component.add("DTSTART", start)
        component.add("DTEND", end)
    if patch.title is not None:
        component.pop("SUMMARY", None)
        component.add("SUMMARY", patch.title)
    _set_optional(component, patch.location, patch.description, patch.conference_link)
    if patch.attendees is not None:
        _set_attendees(component, patch.attendees, organizer)
    if patch.reminders is not None:
        set_reminders(component, patch.reminders)
    bump_sequence(component)


def bump_sequence(component: Component) -> None:
    """SEQUENCE up by one and a fresh DTSTAMP: what an edit does to a component (RFC 5545)."""
    sequence = int(component.get("SEQUENCE", 0)) + 1
    component.pop("SEQUENCE", None)
    component.add("SEQUENCE", sequence)
    component.pop("DTSTAMP", None)
    component.add("DTSTAMP", datetime.now(UTC))


def delete_from(calendar: icalendar.Calendar, uid: str, recurrence: str | None) -> None:
    """Remove a whole series, or one occurrence (EXDATE on the master, its override dropped)."""
    matching = [c for c in calendar.subcomponents if c.name == "VEVENT" and str(c.get("UID", "")) == uid]
    if not matching:
        raise EventNotFoundError(f"no event with UID {uid} in this calendar")
    if recurrence is None:
        calendar.subcomponents[:] = [c for c in calendar.subcomponents if c not in matching]
        return
    override = find_component(calendar, uid, recurrence)
    if override is not None:
        calendar.subcomponents.remove(override)
    master = find_component(calendar, uid, None)
    if master is not None and any(name in master for name in ("RRULE", "RDATE")):
        master.add("EXDATE", _from_key(recurrence, master["DTSTART"].dt))
        bump_sequence(master)


def set_response(component: Component, email: str, response: str) -> None:
    """Set `email`'s PARTSTAT on the component; they must be among its attendees."""
    attendees = _as_list(component.get("ATTENDEE"))
    for attendee in attendees:
        if str(attendee).lower().removeprefix("mailto:") == email.lower():
            attendee.params["PARTSTAT"] = response.upper()
            attendee.params.pop("RSVP", None)
            component.pop("DTSTAMP", None)  # an answer is no new version: SEQUENCE is the organizer's
            component.add("DTSTAMP", datetime.now(UTC))
            return
    raise InvalidEventError(f"{email} is not invited to this event, so there is no invitation to answer")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never a mix."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
