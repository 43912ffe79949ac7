"""The calendar's exceptions, as one tree: everything a provider raises on purpose is a CalendarError.

    CalendarError
    ├── CalendarSourceError   a file or server cannot be read, parsed or reached
    ├── InvalidEventError     an event or a request about one makes no sense (end before start ...)
    ├── EventNotFoundError    no event with that id
    ├── WriteNotAllowedError  the write needs --allow-write, or the calendar is read-only
    └── StorageError          the calendar file could not be saved (disk full, read-only mount)

The MCP layer turns each into a `ToolError` whose message says what went wrong and what to do.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = [
    "CalendarError",
    "CalendarSourceError",
    "EventNotFoundError",
    "InvalidEventError",
    "StorageError",
    "WriteNotAllowedError",
    "save_failure",
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


class StorageError(CalendarError):
    """The calendar file could not be saved; it was left as it was."""


def save_failure(path: Path, exc: OSError) -> StorageError:
    """What a failed save of `path` means, and what to do (the file itself is unchanged)."""
    folder, reason = path.parent, exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(
            f"disk full: cannot save {path} ({reason}); the calendar was not changed: free space in "
            f"{folder} and try again (no restart needed)"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(
            f"cannot write {path} ({reason}): make {folder} writable (it may be on a read-only mount), "
            "or pass another --ics file"
        )
    return StorageError(f"cannot save {path} ({reason}); the calendar was not changed: try again")
