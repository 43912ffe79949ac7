"""The calendar's exceptions, as one tree: everything a provider raises on purpose is a CalendarError.

    CalendarError
    ├── CalendarSourceError   a file or server cannot be read, parsed or reached
    ├── InvalidEventError     an event or a request about one makes no sense (end before start ...)
    ├── EventNotFoundError    no event with that id
    └── WriteNotAllowedError  the write needs --allow-write, or the calendar is read-only

The MCP layer turns each into a `ToolError` whose message says what went wrong and what to do.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "CalendarSourceError",
    "EventNotFoundError",
    "InvalidEventError",
    "WriteNotAllowedError",
]


class CalendarError(Exception):
    """Base of every error the calendar raises on purpose."""


class CalendarSourceError(CalendarError):
    """A calendar file or server cannot be read, parsed or reached."""


class InvalidEventError(CalendarError):
    """An event, or a request about one, is malformed."""


class EventNotFoundError(CalendarError):
    """No event has the requested id."""


class WriteNotAllowedError(CalendarError):
    """The write was refused: it needs --allow-write, or the calendar cannot be written."""
