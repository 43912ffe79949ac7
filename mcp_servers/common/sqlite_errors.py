"""What a SQLite failure means for the person running a server, in words: disk full, read-only
storage, a lock held too long, a corrupt file.

`classify` reads the error's primary result code (an I/O error with almost no free space left is a
full disk in disguise, and one on a filesystem that refuses writes, remounted read-only after an
error, is a read-only directory in disguise); `explain` says what happened to which file and what to do, naming the setting
that moves the file; `unwritable` answers the same question before SQLite is asked, because a
read-only mount otherwise shows as "unable to open database file". A server keeps its own exception
tree and turns these into it at its one storage boundary with `translating` (the notify server's
errors.py, the gmail server's index_errors.py).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

__all__ = ["StorageProblem", "classify", "explain", "translating", "unwritable"]

# SQLite's primary result codes (the low byte of an extended code).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26
LOW_SPACE_BYTES = 1 << 20  # an I/O error with less than this free is a full disk in disguise


class StorageProblem(StrEnum):
    DISK_FULL = "disk full"
    READ_ONLY = "read-only"
    LOCKED = "locked"
    CORRUPT = "corrupt"


def classify(exc: BaseException, path: Path) -> StorageProblem | None:
    """What `exc` (a `sqlite3` error on the file `path`) means; None for anything else (a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _low_on_space(path)):
        return StorageProblem.DISK_FULL
    if primary in (SQLITE_READONLY, SQLITE_CANTOPEN) or (primary == SQLITE_IOERR and _refuses_writes(path)):
        return StorageProblem.READ_ONLY
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return StorageProblem.LOCKED
    if primary in (SQLITE_NOTADB, SQLITE_CORRUPT):
        return StorageProblem.CORRUPT
    return None


def explain(problem: StorageProblem, exc: BaseException, path: Path, relocate: str) -> str:
    """One line: what happened to `path`, and what to do; `relocate` names how to choose another file
    (e.g. '--db or PEPPER_NOTIFY_DB_PATH')."""
    folder = path.parent
    match problem:
        case StorageProblem.DISK_FULL:
            return (
                f"disk full: the database {path} cannot grow ({exc}); nothing of this change was "
                f"stored: free space in {folder} and try again (no restart needed)"
            )
        case StorageProblem.READ_ONLY:
            return (
                f"cannot write the database {path} ({exc}): make {folder} writable (it may be on a "
                f"read-only mount), or choose another file with {relocate}"
            )
        case StorageProblem.LOCKED:
            return (
                f"database is locked: another process kept {path} locked past the busy timeout ({exc}); "
                "try again, and if it persists find the process holding it (fuser on the file)"
            )
        case StorageProblem.CORRUPT:
            return (
                f"the database {path} is corrupt or not a SQLite database ({exc}): move it aside and "
                "restart to begin a new one, or restore it from a backup"
            )


@contextmanager
def translating(
    path: Path, relocate: str, error: Callable[[StorageProblem, str], Exception]
) -> Iterator[None]:
    """A `sqlite3` error on `path` raised inside becomes `error(problem, explanation)`; an error that
    is none of the four problems (a bug) passes unchanged."""
    try:
        yield
    except sqlite3.Error as exc:
        problem = classify(exc, path)
        if problem is None:
            raise
        raise error(problem, explain(problem, exc, path, relocate)) from exc


def unwritable(path: Path, relocate: str) -> str | None:
    """Why the database `path` cannot be written (its folder cannot be created, or it or its folder
    is read-only), or None when it can. Checked before opening: SQLite's own words are vaguer."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return (
            f"cannot create the data directory {folder} ({exc.strerror}): create it or choose another "
            f"file with {relocate}"
        )
    blocked = [p for p in (folder, path) if p.exists() and not os.access(p, os.W_OK)]
    if blocked:
        return (
            f"cannot write {blocked[0]}: the data directory {folder} is read-only (a read-only mount "
            f"or its permissions); make it writable, or choose another file with {relocate}"
        )
    return None


def _refuses_writes(path: Path) -> bool:
    """True when the folder of `path` cannot take a new file because its filesystem is read-only
    (EROFS); asked only after an I/O error, as a filesystem that went read-only after an error may
    not say so in its mount flags."""
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            return False
    except OSError as exc:
        return exc.errno == errno.EROFS


def _low_on_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES
    except OSError:
        return False
