"""Event ids that survive a round trip through a host: calendar, UID and recurrence id in one string.

An id reads `calendar:uid` for a single event or a whole series, and `calendar:uid:20260105T090000Z`
(or `:20260105` for an all-day occurrence) for one occurrence. The UID is percent-encoded, so the id
holds no `/` or `:` of its own and fits in a resource URI (`calendar://event/{id}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote

from mcp_servers.calendar.errors import EventNotFoundError

__all__ = ["EventRef", "event_id", "parse_event_id", "recurrence_key"]


@dataclass(frozen=True)
class EventRef:
    """What an id points at: a calendar, a UID and maybe one occurrence (its recurrence key)."""

    calendar: str
    uid: str
    recurrence: str | None = None

    @property
    def series_id(self) -> str:
        return f"{self.calendar}:{quote(self.uid, safe='@.-_+')}"


def recurrence_key(moment: date) -> str:
    """The compact UTC form of a recurrence id (dates stay dates); floating times must be made aware first."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return moment.strftime("%Y%m%d")


def event_id(calendar: str, uid: str, recurrence_id: date | None = None) -> str:
    ref = EventRef(calendar, uid)
    if recurrence_id is None:
        return ref.series_id
    return f"{ref.series_id}:{recurrence_key(recurrence_id)}"


def parse_event_id(text: str) -> EventRef:
    """Read an id made by `event_id`; a malformed one is an `EventNotFoundError` that says why."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise EventNotFoundError(
            f"{text!r} is not an event id: ids look like 'calendar:uid' or 'calendar:uid:20260105T090000Z'; "
            "take them from list_events or search_events"
        )
    return EventRef(parts[0], unquote(parts[1]), parts[2] if len(parts) == 3 else None)
