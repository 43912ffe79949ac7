"""The one interface every calendar backend implements, and the drafts the write tools accept.

The server and the upcoming-events monitor talk only to a `CalendarProvider`: the local ICS files,
a CalDAV account, or any later backend. Reads return `mcp_servers.calendar.models` objects; writes
take an `EventDraft` (create) or an `EventPatch` (update). `fingerprints()` lets the change log see
which event series appeared, changed or disappeared; `watch()` wakes it when something may have.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from mcp_servers.calendar.models import CalendarInfo, Event, EventList, ResponseStatus, When

__all__ = ["CalendarProvider", "EventDraft", "EventPatch", "Fingerprint", "OnChange"]

OnChange = Callable[[], Awaitable[None]]
Fingerprint = tuple[str, str | None]  # (hash of the series' components, its title)


class EventDraft(BaseModel):
    """A new event."""

    title: str = Field(min_length=1)
    start: When
    end: When
    calendar: str | None = Field(None, description="Calendar id; the first writable one if omitted")
    location: str | None = None
    description: str | None = None
    attendees: list[str] = Field(default_factory=list, description="E-mail addresses to invite")
    conference_link: str | None = None


class EventPatch(BaseModel):
    """Fields to change on an event; None leaves a field as it is."""

    title: str | None = None
    start: When | None = None
    end: When | None = None
    location: str | None = None
    description: str | None = None
    attendees: list[str] | None = Field(None, description="The full new list of invitees")
    conference_link: str | None = None


class CalendarProvider(Protocol):
    """A source of calendars and events; every method may raise a `CalendarError`."""

    async def list_calendars(self) -> list[CalendarInfo]: ...

    async def list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList: ...

    async def get_event(self, event_id: str) -> Event: ...

    async def create_event(self, draft: EventDraft) -> Event: ...

    async def update_event(self, event_id: str, patch: EventPatch) -> Event: ...

    async def delete_event(self, event_id: str) -> None: ...

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event: ...

    async def fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        """Per readable calendar, per UID: a hash of the series and its title."""
        ...

    async def watch(self, on_change: OnChange) -> None:
        """Call `on_change` whenever the calendars may have changed; runs until cancelled."""
        ...
