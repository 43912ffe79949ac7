"""The calendar's data model: events, attendees, calendars, free slots and changes, as pydantic models.

Timed events carry timezone-aware datetimes; all-day events carry dates (end exclusive, as in
iCalendar). Every provider returns these models, and the MCP tools return them unchanged, so a
host sees the same shape whether the events came from an ICS file or a CalDAV server.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

__all__ = [
    "AccessRole",
    "Attendee",
    "CalendarInfo",
    "CalendarList",
    "Change",
    "ChangeList",
    "Event",
    "EventList",
    "FreeSlot",
    "FreeSlotList",
    "Person",
    "ResponseStatus",
    "UnreadAttendee",
    "When",
    "WhenGiven",
]

ResponseStatus = Literal["needs-action", "accepted", "declined", "tentative", "delegated"]
EventStatus = Literal["confirmed", "tentative", "cancelled"]
AccessRole = Literal["owner", "writer", "reader", "freeBusyReader"]


def _date_if_plain_day(value: object) -> object:
    """Read "2026-03-01" as a day (all-day) rather than as midnight."""
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    return value


When = Annotated[datetime | date, BeforeValidator(_date_if_plain_day)]


def _inside_the_calendar(value: date) -> date:
    """Refuse years 1 and 9999: a zone change or a day added there leaves the calendar (OverflowError)."""
    if not 2 <= value.year <= 9998:
        raise ValueError(f"{value.isoformat()} is at the edge of the calendar: give a year from 2 to 9998")
    return value


# A time a caller gives (tool arguments): a `When` that can be converted and expanded safely.
WhenGiven = Annotated[When, AfterValidator(_inside_the_calendar)]


class Person(BaseModel):
    """Someone named on an event."""

    email: str | None = Field(None, description="E-mail address, without mailto:")
    name: str | None = Field(None, description="Display name (iCalendar CN)")


class Attendee(Person):
    """An invited person and their answer."""

    response: ResponseStatus = Field("needs-action", description="The attendee's answer (PARTSTAT)")
    role: str | None = Field(None, description="REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR ...")


class Event(BaseModel):
    """One event, or one occurrence of a recurring event."""

    id: str = Field(description="Stable id: calendar, UID and, for an occurrence, its recurrence id")
    calendar: str = Field(description="Id of the calendar that holds the event")
    uid: str = Field(description="The iCalendar UID shared by every occurrence of a series")
    title: str = Field(description="Summary line")
    start: When = Field(description="Start: aware datetime, or a date for all-day events")
    end: When = Field(description="End (exclusive): aware datetime, or a date for all-day events")
    all_day: bool = Field(description="True when start and end are dates")
    location: str | None = None
    description: str | None = None
    organizer: Person | None = None
    attendees: list[Attendee] = Field(default_factory=list)
    conference_link: str | None = Field(None, description="Video call link, if the event has one")
    recurrence_id: When | None = Field(None, description="Original start of this occurrence")
    recurring: bool = Field(False, description="True when the event belongs to a recurring series")
    status: EventStatus = "confirmed"
    busy: bool = Field(True, description="False when the event is marked free (TRANSP:TRANSPARENT)")
    reminders: list[int] = Field(
        default_factory=list, description="Reminders (VALARM), in minutes before the start"
    )


class EventList(BaseModel):
    """Events in start order, possibly cut short."""

    events: list[Event]
    truncated: bool = Field(False, description="True when more events matched than were returned")
    errors: list[str] = Field(default_factory=list, description="Calendars that could not be read")


class CalendarInfo(BaseModel):
    """One calendar the server can read."""

    id: str
    name: str
    source: str = Field(description="File path or server URL")
    writable: bool
    access_role: AccessRole = Field(
        description="What you may do here: owner or writer (change events), reader (see them), "
        "freeBusyReader (see only busy times), as the provider says or as the file allows"
    )
    error: str | None = Field(None, description="Why the calendar cannot be read now, if it cannot")
    warnings: list[str] = Field(default_factory=list, description="Events skipped or read with a guess")


class CalendarList(BaseModel):
    calendars: list[CalendarInfo]


class FreeSlot(BaseModel):
    """A free stretch of time long enough for the requested meeting."""

    start: datetime
    end: datetime


class UnreadAttendee(BaseModel):
    """An attendee whose free/busy could not be read: the slots may not suit them."""

    email: str
    reason: str = Field(description="Why their free/busy could not be read")


class FreeSlotList(BaseModel):
    slots: list[FreeSlot]
    truncated: bool = False
    checked_attendees: list[str] = Field(
        default_factory=list, description="Attendees whose free/busy was read from their calendars' server"
    )
    unread_attendees: list[UnreadAttendee] = Field(
        default_factory=list,
        description="Attendees whose free/busy could not be read; only events in your own calendars "
        "that they attend were counted for them",
    )


class Change(BaseModel):
    """An event series that appeared, changed or disappeared."""

    seq: int = Field(description="Position in the change log")
    op: Literal["created", "updated", "deleted"]
    event_id: str = Field(description="Id of the series (or single event); get_event reads it")
    calendar: str
    uid: str
    title: str | None = None


class ChangeList(BaseModel):
    changes: list[Change]
    cursor: str = Field(description="Pass as `since` next time to get only later changes")
    more: bool = Field(False, description="True when more changes wait after this batch")
