"""SQLite connections that can load sqlite-vec, with the durability and locking settings we rely on.

The stdlib `sqlite3` is used when it can load extensions; the pyenv CPython on our machines lacks
`enable_load_extension`, and there `pysqlite3.dbapi2` (pysqlite3-binary, which bundles a recent
SQLite) takes its place. Every connection runs in WAL mode with `synchronous=NORMAL`: in WAL a
committed transaction survives the death of the process (SIGKILL included); only an operating-system
crash or power loss can lose the last few transactions. A `busy_timeout` lets two processes write
the same file: the second writer waits for the lock instead of failing. `Readers` keeps the reads
on connections of their own, each run under a deadline (`deadline`), so that a long search never
holds the writer's connection. Opening errors are translated by `errors.storage_error`.
"""

from __future__ import annotations

import os
import queue
import sqlite3 as _stdlib_sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlite_vec

from .errors import QueryTimeout, ReadOnlyStorage, storage_error

__all__ = ["BUSY_TIMEOUT_MS", "Readers", "connect", "deadline", "sqlite_module"]

BUSY_TIMEOUT_MS = 10_000
# Reads go through a memory map of up to 1 GiB of the file instead of SQLite's page cache: a vec0 KNN
# scans every stored vector, and over 100,000 of them the copies into the cache took 40% of a search.
MMAP_BYTES = 1 << 30
PROGRESS_STEPS = 10_000  # SQLite VM instructions between two deadline checks (well under 1 ms)


def sqlite_module() -> ModuleType:
    """The DB-API module to use: stdlib `sqlite3` if it can load extensions, else `pysqlite3`."""
    if hasattr(_stdlib_sqlite3.Connection, "enable_load_extension"):
        return _stdlib_sqlite3
    try:
        import pysqlite3.dbapi2 as pysqlite3
    except ImportError as exc:
        raise RuntimeError(
            "this Python's sqlite3 cannot load extensions and pysqlite3 is missing: "
            "install pysqlite3-binary (pip install pysqlite3-binary)"
        ) from exc
    return pysqlite3


def connect(path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, mmap_bytes: int = MMAP_BYTES) -> Any:
    """Open `path` (created if missing) in autocommit mode with sqlite-vec loaded and WAL on.

    Raises a `StorageError` that says what to do when the file cannot be opened or written."""
    if str(path) != ":memory:":
        _check_writable(Path(path))
    module = sqlite_module()
    try:
        # Autocommit (isolation_level=None): the store issues BEGIN IMMEDIATE itself, so that a writer
        # takes the write lock up front and waits on busy_timeout instead of failing on upgrade.
        connection = module.connect(str(path), isolation_level=None, check_same_thread=False)
        connection.enable_load_extension(True)
        sqlite_vec.load(connection)
        connection.enable_load_extension(False)
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(f"PRAGMA mmap_size = {int(mmap_bytes)}")
        connection.execute("PRAGMA foreign_keys = ON")
    except module.Error as exc:
        translated = storage_error(exc, None if str(path) == ":memory:" else Path(path))
        if translated is None:
            raise
        raise translated from exc
    return connection


def _check_writable(path: Path) -> None:
    """Fail before SQLite does, in words: a read-only mount otherwise shows as 'unable to open'."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReadOnlyStorage(
            f"cannot create the data directory {folder} ({exc.strerror}): create it or choose another "
            "file with --db or PEPPER_CONTEXT_DB_PATH"
        ) from exc
    unwritable = [p for p in (folder, path) if p.exists() and not os.access(p, os.W_OK)]
    if unwritable:
        raise ReadOnlyStorage(
            f"cannot write {unwritable[0]}: the data directory {folder} is read-only (a read-only "
            "mount or its permissions); make it writable, or choose another file with --db or "
            "PEPPER_CONTEXT_DB_PATH"
        )


@contextmanager
def deadline(connection: Any, seconds: float) -> Iterator[None]:
    """Statements on `connection` inside this block are interrupted after `seconds` (SQLITE_INTERRUPT)."""
    ends = time.monotonic() + seconds
    connection.set_progress_handler(lambda: time.monotonic() > ends, PROGRESS_STEPS)
    try:
        yield
    finally:
        connection.set_progress_handler(None, 0)


class Readers:
    """A few read connections to one file, apart from the writer's: a long search holds only its own.

    At most `size` reads run at once; one more waits for a free connection until its deadline."""

    def __init__(
        self, path: Path, size: int = 4, busy_timeout_ms: int = BUSY_TIMEOUT_MS, mmap_bytes: int = MMAP_BYTES
    ) -> None:
        self._path = path
        self._mmap_bytes = mmap_bytes
        self._size = size
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._busy: set[Any] = set()

    @contextmanager
    def connection(self, seconds: float) -> Iterator[Any]:
        """A read connection whose statements stop after `seconds`."""
        if not self._slots.acquire(timeout=seconds):
            raise QueryTimeout(
                f"all {self._size} read connections stayed busy for {seconds:g} s: try again shortly"
            )
        try:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = connect(self._path, self._busy_timeout_ms, self._mmap_bytes)
            self._busy.add(connection)
            try:
                with deadline(connection, seconds):
                    yield connection
            finally:
                self._busy.discard(connection)
                self._idle.put(connection)
        finally:
            self._slots.release()

    def shrink(self) -> None:
        """Free the page caches of the idle connections (`PRAGMA shrink_memory`)."""
        idle = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for connection in idle:
            connection.execute("PRAGMA shrink_memory")
            self._idle.put(connection)

    def interrupt_all(self) -> None:
        """Stop every read running now (at shutdown: nothing waits for a long search to end)."""
        for connection in list(self._busy):
            connection.interrupt()

    def close(self) -> None:
        self.interrupt_all()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
