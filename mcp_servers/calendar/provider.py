"""The one interface every calendar backend implements, and the drafts the write tools accept.

The server and the upcoming-events monitor talk only to a `CalendarProvider`: the local ICS files,
a CalDAV account, or any later backend. Reads return `mcp_servers.calendar.models` objects; writes
take an `EventDraft` (create) or an `EventPatch` (update), whose attendees must be bare RFC 5322
addresses and whose title one line (it becomes an invitation's Subject). `fingerprints()` lets the change log see
which event series appeared, changed or disappeared; `watch()` wakes it when something may have.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from mcp_servers.calendar.models import CalendarInfo, Event, EventList, ResponseStatus, WhenGiven
from mcp_servers.calendar.reminders import Reminders
from mcp_servers.calendar.rrules import normalize_rule
from mcp_servers.common.addresses import addr_spec, header_text

__all__ = ["AttendeeBusy", "CalendarProvider", "EventDraft", "EventPatch", "Fingerprint", "OnChange", "Scope"]

OnChange = Callable[[], Awaitable[None]]
Fingerprint = tuple[str, str | None]  # (hash of the series' components, its title)
Scope = Literal["instance", "following", "series"]
_RULE = "Recurrence rule (RRULE), e.g. FREQ=WEEKLY;INTERVAL=2;COUNT=10 or FREQ=DAILY;UNTIL=20260630"


def _attendees(emails: list[str] | None) -> list[str] | None:
    return None if emails is None else [addr_spec(email, "attendees") for email in emails]


def _one_line(title: str | None) -> str | None:
    return None if title is None else header_text(title, "title")


class EventDraft(BaseModel):
    """A new event."""

    title: str = Field(min_length=1)
    start: WhenGiven
    end: WhenGiven
    calendar: str | None = Field(None, description="Calendar id; the first writable one if omitted")
    location: str | None = None
    description: str | None = None
    attendees: list[str] = Field(default_factory=list, description="E-mail addresses to invite")
    conference_link: str | None = None
    recurrence: str | None = Field(None, description=f"{_RULE}; a single event if omitted")
    reminders: Reminders | None = Field(
        None, description="Minutes before the start to remind; none if omitted"
    )

    @field_validator("recurrence")
    @classmethod
    def _valid_rule(cls, rule: str | None) -> str | None:
        return normalize_rule(rule)

    _valid_attendees = field_validator("attendees")(_attendees)
    _valid_title = field_validator("title")(_one_line)


class EventPatch(BaseModel):
    """Fields to change on an event; None leaves a field as it is."""

    title: str | None = None
    start: WhenGiven | None = None
    end: WhenGiven | None = None
    location: str | None = None
    description: str | None = None
    attendees: list[str] | None = Field(None, description="The full new list of invitees")
    conference_link: str | None = None
    recurrence: str | None = Field(None, description=f"New {_RULE}; for scope 'series' or 'following' only")
    reminders: Reminders | None = Field(None, description="The full new list of reminders, in minutes before")
    cancel: bool = Field(
        False,
        description="Cancel instead of change: one occurrence (scope 'instance', an EXDATE) or this "
        "occurrence and the following ones (scope 'following': the series ends before it)",
    )

    @field_validator("recurrence")
    @classmethod
    def _valid_rule(cls, rule: str | None) -> str | None:
        return normalize_rule(rule)

    _valid_attendees = field_validator("attendees")(_attendees)
    _valid_title = field_validator("title")(_one_line)


@dataclass
class AttendeeBusy:
    """Other people's busy time as their calendars' server told it, and whose could not be read (why)."""

    busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)


class CalendarProvider(Protocol):
    """A source of calendars and events; every method may raise a `CalendarError`."""

    async def list_calendars(self) -> list[CalendarInfo]: ...

    async def list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList: ...

    async def get_event(self, event_id: str) -> Event: ...

    async def create_event(self, draft: EventDraft) -> Event: ...

    async def update_event(self, event_id: str, patch: EventPatch, scope: Scope | None = None) -> Event:
        """Change one occurrence, it and the following ones, or the whole series (see `Scope`).

        Without a scope, an occurrence id changes that occurrence and a series id the series.
        """
        ...

    async def delete_event(self, event_id: str) -> None: ...

    async def move_event(self, event_id: str, calendar: str) -> Event:
        """Move the event (a whole series, also when given one occurrence) to another calendar."""
        ...

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event: ...

    async def attendee_busy(self, attendees: list[str], start: datetime, end: datetime) -> AttendeeBusy:
        """Busy time of each address in [start, end), from the server's free/busy where it can be read."""
        ...

    async def fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        """Per readable calendar, per UID: a hash of the series and its title."""
        ...

    async def watch(self, on_change: OnChange) -> None:
        """Call `on_change` whenever the calendars may have changed; runs until cancelled."""
        ...
