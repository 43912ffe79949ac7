"""The context store's exceptions, as one tree, and the one place SQLite's errors are translated.

`ContextStoreError` is the root; `InvalidInput` means the caller sent something the store refuses
(bad namespace, oversized item, non-JSON data, a query over its limit), `NotFound` an unknown item,
`SemanticSearchOff` a semantic or hybrid search on a store that has no embedder, `QueryTimeout` a
read stopped at its deadline. `StorageError` and its children say what went wrong with the
database file itself (disk full, read-only, locked, corrupt) and what to do; `storage_error` turns
a raw `sqlite3` exception into one of them, so that no caller ever sees SQLite's own words alone.
"""

from __future__ import annotations

from pathlib import Path

from mcp_servers.common.sqlite_errors import StorageProblem, classify, explain

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

# SQLite's primary result codes (the low byte of an extended code) this module looks at itself.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_INTERRUPT, SQLITE_FULL = 5, 6, 9, 13
RELOCATE = "--db or PEPPER_CONTEXT_DB_PATH"
IN_MEMORY = "the in-memory database"


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


_KINDS: dict[StorageProblem, type[StorageError]] = {
    StorageProblem.DISK_FULL: DiskFull,
    StorageProblem.READ_ONLY: ReadOnlyStorage,
    StorageProblem.LOCKED: DatabaseLocked,
    StorageProblem.CORRUPT: CorruptDatabase,
}


def storage_error(exc: Exception, path: Path | None) -> ContextStoreError | None:
    """The `ContextStoreError` that says what `exc` (a `sqlite3` error) means; None when it means
    nothing the caller can act on (a bug: let it surface as it is). The words are the ones every
    server uses (`mcp_servers.common.sqlite_errors`)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == SQLITE_INTERRUPT:
        return QueryTimeout("SQLite interrupted it")
    where = path if path is not None else Path(IN_MEMORY)
    problem = classify(exc, where) if path is not None or _names_no_folder(exc) else None
    if problem is None:
        return None
    return _KINDS[problem](explain(problem, exc, where, RELOCATE))


def _names_no_folder(exc: Exception) -> bool:
    """An in-memory database can still be full (max_page_count) or locked: no folder to look at."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (SQLITE_FULL, SQLITE_BUSY, SQLITE_LOCKED)
