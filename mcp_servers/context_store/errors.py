"""The context store's exceptions, as one tree, and the one place SQLite's errors are translated.

`ContextStoreError` is the root; `InvalidInput` means the caller sent something the store refuses
(bad namespace, oversized item, non-JSON data, a query over its limit), `NotFound` an unknown item,
`SemanticSearchOff` a semantic or hybrid search on a store that has no embedder, `QueryTimeout` a
read stopped at its deadline. `StorageError` and its children say what went wrong with the
database file itself (disk full, read-only, locked, corrupt) and what to do; `storage_error` turns
a raw `sqlite3` exception into one of them, so that no caller ever sees SQLite's own words alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = [
    "ContextStoreError",
    "CorruptDatabase",
    "DatabaseLocked",
    "DiskFull",
    "InvalidInput",
    "NotFound",
    "QueryTimeout",
    "ReadOnlyStorage",
    "SemanticSearchOff",
    "StorageError",
    "storage_error",
]

# SQLite's primary result codes (the low byte of an extended code).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_INTERRUPT = 5, 6, 8, 9
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26
LOW_SPACE_BYTES = 1 << 20  # an I/O error with less than this free is a full disk in disguise


class ContextStoreError(Exception):
    """Base of every error the context store raises on purpose."""


class InvalidInput(ContextStoreError, ValueError):
    """The caller's input breaks a documented rule; the message says which and how to fix it."""


class NotFound(ContextStoreError, LookupError):
    """No live item has that namespace and id."""


class SemanticSearchOff(ContextStoreError):
    """Semantic search needs an embedder and this store runs without one."""


class QueryTimeout(ContextStoreError):
    """A read ran past its deadline and was stopped; nothing was changed."""


class StorageError(ContextStoreError):
    """The database file cannot do what was asked; the message says why and what to do."""


class DiskFull(StorageError):
    """No space left for the database: the write was not made (and not acknowledged)."""


class ReadOnlyStorage(StorageError):
    """The database file or its directory cannot be written."""


class DatabaseLocked(StorageError):
    """Another connection held the write lock for longer than the busy timeout."""


class CorruptDatabase(StorageError):
    """The file is not a SQLite database, or is damaged."""


def storage_error(exc: Exception, path: Path | None) -> ContextStoreError | None:
    """The `ContextStoreError` that says what `exc` (a `sqlite3` error) means; None when it means
    nothing the caller can act on (a bug: let it surface as it is)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = str(path) if path is not None else "the in-memory database"
    folder = str(path.parent) if path is not None else "memory"
    if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _low_on_space(path)):
        return DiskFull(
            f"disk full: the database {where} cannot grow ({exc}); nothing of this write was stored: "
            f"free space in {folder} and try again (no restart needed)"
        )
    if primary == SQLITE_READONLY or (primary == SQLITE_CANTOPEN and path is not None):
        return ReadOnlyStorage(
            f"cannot write the database {where} ({exc}): make {folder} writable (it may be on a "
            "read-only mount), or choose another file with --db or PEPPER_CONTEXT_DB_PATH"
        )
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseLocked(
            f"database is locked: another process kept {where} locked past the busy timeout ({exc}); "
            "try again, and if it persists find the process holding it (fuser on the file)"
        )
    if primary in (SQLITE_NOTADB, SQLITE_CORRUPT):
        return CorruptDatabase(
            f"the database {where} is corrupt or not a SQLite database ({exc}): move it aside and "
            "restart to begin a new one, or restore it from a backup"
        )
    if primary == SQLITE_INTERRUPT:
        return QueryTimeout("SQLite interrupted it")
    return None


def _low_on_space(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES
    except OSError:
        return False
