"""The notify server's storage errors, and the one place SQLite's errors are translated into them.

`StorageError` is the root: its message says what happened to the database file and what to do
(`DiskFull`, `ReadOnlyStorage`, `DatabaseLocked`, `CorruptDatabase`). The store raises them from
every statement it runs (`translated`), so a tool call gets a `ToolError` with those words (the
server's middleware), start-up gets one line and exit status 2, and the engine's loops log one line
and try again at their next tick; the server keeps serving what it still can (reads on a full disk,
for instance). Anything SQLite says that is none of these is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from fastmcp.exceptions import ResourceError, ToolError

from mcp_servers.common.sqlite_errors import StorageProblem, translating, unwritable

__all__ = [
    "CorruptDatabase",
    "DatabaseLocked",
    "DiskFull",
    "ReadOnlyStorage",
    "StorageError",
    "check_writable",
    "reported",
    "translated",
]

RELOCATE = "--db or PEPPER_NOTIFY_DB_PATH"
P = ParamSpec("P")
T = TypeVar("T")


class StorageError(Exception):
    """The database file cannot do what was asked; nothing of the failed change was stored."""


class DiskFull(StorageError):
    """No space left: the change was not made (and not acknowledged)."""


class ReadOnlyStorage(StorageError):
    """The database file or its directory cannot be written."""


class DatabaseLocked(StorageError):
    """Another connection held the write lock for longer than the busy timeout."""


class CorruptDatabase(StorageError):
    """The file is not a SQLite database, or is damaged."""


_KINDS: dict[StorageProblem, type[StorageError]] = {
    StorageProblem.DISK_FULL: DiskFull,
    StorageProblem.READ_ONLY: ReadOnlyStorage,
    StorageProblem.LOCKED: DatabaseLocked,
    StorageProblem.CORRUPT: CorruptDatabase,
}


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """SQLite errors raised inside become the `StorageError` that says what to do; others pass."""
    with translating(path, RELOCATE, lambda problem, message: _KINDS[problem](message)):
        yield


def check_writable(path: Path) -> None:
    """Raise `ReadOnlyStorage` when the database at `path` could not be written (before opening it)."""
    reason = unwritable(path, RELOCATE)
    if reason is not None:
        raise ReadOnlyStorage(reason)


def reported(
    error: type[ToolError] | type[ResourceError],
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorates a tool (`ToolError`) or resource (`ResourceError`) so that a `StorageError` reaches
    the caller in its own words, logged as one line instead of a traceback."""

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(function)
        async def said(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await function(*args, **kwargs)
            except StorageError as exc:
                raise error(str(exc)) from exc

        return said

    return decorate
