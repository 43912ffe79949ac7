"""Turning one iCalendar VEVENT into an `Event`, and the time helpers every module shares.

Floating date-times are read in the user's timezone (`aware`); `sort_key` makes dates and
date-times comparable (a date is midnight in the user's zone). Attendee answers, the organizer and a
video-call link (CONFERENCE, Google's and Microsoft's X- properties, or a known meeting URL in the
location, URL or description) are read off the component.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from icalendar.cal import Component

from mcp_servers.calendar.event_ids import event_id
from mcp_servers.calendar.models import Attendee, Event, Person
from mcp_servers.calendar.reminders import read_reminders

__all__ = ["aware", "component_to_event", "sort_key"]


def component_to_event(component: Component, calendar_id: str, zone: tzinfo, recurring: bool) -> Event:
    """One VEVENT (a single event or one occurrence) as an `Event`."""
    start, end = _times(component, zone)
    rid_prop = component.get("RECURRENCE-ID")
    recurrence_id = aware(rid_prop.dt, zone) if rid_prop is not None else None
    uid = str(component.get("UID", ""))
    return Event(
        id=event_id(calendar_id, uid, recurrence_id if recurring else None),
        calendar=calendar_id,
        uid=uid,
        title=str(component.get("SUMMARY", "")),
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        location=_text(component, "LOCATION"),
        description=_text(component, "DESCRIPTION"),
        organizer=_person(component.get("ORGANIZER")),
        attendees=[_attendee(value) for value in _as_list(component.get("ATTENDEE"))],
        conference_link=_conference_link(component),
        recurrence_id=recurrence_id if recurring else None,
        recurring=recurring or "RRULE" in component or "RDATE" in component,
        status=_status(component),
        busy=str(component.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT",
        reminders=read_reminders(component, start, end, zone),
    )


def _times(component: Component, zone: tzinfo) -> tuple[date, date]:
    start = aware(component["DTSTART"].dt, zone)
    if "DTEND" in component:
        end = aware(component["DTEND"].dt, zone)
    elif "DURATION" in component:
        end = start + component["DURATION"].dt
    else:  # RFC 5545: a day for a date, zero length for a date-time
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if isinstance(start, datetime) != isinstance(end, datetime):
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if sort_key(end, zone) < sort_key(start, zone):  # the library reads a swapped pair this way too
        start, end = end, start
    return start, end


def aware(moment: date, zone: tzinfo) -> date:
    """A floating datetime read in `zone`; dates and aware datetimes unchanged."""
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment


def sort_key(moment: date, zone: tzinfo) -> datetime:
    """A comparable instant: dates are midnight in `zone`."""
    if isinstance(moment, datetime):
        return aware(moment, zone)
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone)


def _text(component: Component, name: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    return str(value) or None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _person(value: Any) -> Person | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    params = getattr(value, "params", {})
    return Person(email=_email(value), name=params.get("CN") or None)


def _attendee(value: Any) -> Attendee:
    params = getattr(value, "params", {})
    response = str(params.get("PARTSTAT", "NEEDS-ACTION")).lower()
    if response not in ("needs-action", "accepted", "declined", "tentative", "delegated"):
        response = "needs-action"
    return Attendee(
        email=_email(value), name=params.get("CN") or None, response=response, role=params.get("ROLE")
    )


def _email(value: Any) -> str | None:
    text = str(value)
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text or None


_CONFERENCE_HINTS = ("meet.google.com", "zoom.us", "teams.microsoft.com", "webex.com", "whereby.com")


def _conference_link(component: Component) -> str | None:
    for name in ("CONFERENCE", "X-GOOGLE-CONFERENCE", "X-MICROSOFT-SKYPETEAMSMEETINGURL"):
        values = _as_list(component.get(name))
        if values:
            return str(values[0])
    for name in ("LOCATION", "URL", "DESCRIPTION"):
        text = _text(component, name) or ""
        for word in text.split():
            if word.startswith("https://") and any(hint in word for hint in _CONFERENCE_HINTS):
                return word.rstrip(".,;)>")
    return None


def _status(component: Component) -> str:
    status = str(component.get("STATUS", "CONFIRMED")).lower()
    return status if status in ("confirmed", "tentative", "cancelled") else "confirmed"
