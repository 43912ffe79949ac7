"""The store's connections to its SQLite file: one writer behind a lock, readers under a deadline.

`Database.write()` is one `BEGIN IMMEDIATE` transaction on the writer connection, rolled back on
any error, and announced to other processes after the commit. `Database.read()` is a snapshot on
a read connection of its own (for an in-memory database: the writer's, under the lock) whose
statements are interrupted after `seconds`, so a long search neither blocks writes nor runs for
ever. Every block translates SQLite's errors at this one boundary (`errors.storage_error`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import QueryTimeout, storage_error
from .sqlite import BUSY_TIMEOUT_MS, MMAP_BYTES, Readers, connect, deadline, sqlite_module
from .wakeups import Wakeups

__all__ = ["Database"]

logger = logging.getLogger(__name__)


class Database:
    """The writer connection, the read connections and the wake-ups of one database file."""

    def __init__(
        self,
        connection: Any,
        path: Path | None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        mmap_bytes: int = MMAP_BYTES,
    ) -> None:
        self.connection = connection
        self.path = path
        self.lock = threading.Lock()
        self.readers = (
            Readers(path, busy_timeout_ms=busy_timeout_ms, mmap_bytes=mmap_bytes)
            if path is not None
            else None
        )
        self.wakeups = Wakeups(path) if path is not None else None
        self._error = sqlite_module().Error

    @classmethod
    def open(
        cls, path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, mmap_bytes: int = MMAP_BYTES
    ) -> Database:
        connection = connect(path, busy_timeout_ms, mmap_bytes)
        return cls(connection, None if str(path) == ":memory:" else Path(path), busy_timeout_ms, mmap_bytes)

    def shrink(self) -> None:
        """Free what SQLite caches in memory, on the writer and the idle readers."""
        with self.lock, self.translated():
            self.connection.execute("PRAGMA shrink_memory")
            if self.readers is not None:
                self.readers.shrink()

    def close(self) -> None:
        if self.readers is not None:
            self.readers.close()
        with self.lock:
            self.connection.close()
        if self.wakeups is not None:
            self.wakeups.close()

    @contextmanager
    def translated(self) -> Iterator[None]:
        """The one boundary where SQLite's errors become `ContextStoreError`s that say what to do."""
        try:
            yield
        except self._error as exc:
            translated = storage_error(exc, self.path)
            if translated is None:
                raise
            raise translated from exc

    @contextmanager
    def locked(self) -> Iterator[Any]:
        """The writer connection, alone, outside any transaction (short reads of the store's own)."""
        with self.lock, self.translated():
            yield self.connection

    @contextmanager
    def write(self) -> Iterator[Any]:
        db = self.connection
        with self.lock, self.translated():
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        if self.wakeups is not None:
            self.wakeups.announce()

    def _rollback(self) -> None:
        # SQLite ends the transaction itself on some errors (SQLITE_FULL, SQLITE_INTERRUPT): a ROLLBACK
        # then fails with "no transaction is active" and would hide the error that matters.
        if self.connection.in_transaction:
            try:
                self.connection.execute("ROLLBACK")
            except self._error as exc:
                logger.warning("rollback after a failed write failed too: %s", exc)

    @contextmanager
    def read(self, seconds: float) -> Iterator[Any]:
        """A consistent snapshot (several SELECTs see the same committed state), stopped after `seconds`."""
        try:
            with self._reader(seconds) as db, self.translated():
                db.execute("BEGIN")
                try:
                    yield db
                finally:
                    if db.in_transaction:
                        db.execute("COMMIT")
        except QueryTimeout as exc:
            raise QueryTimeout(
                f"the read took longer than {seconds:g} s and was stopped ({exc}): narrow it "
                "(fewer words, a namespace filter, a smaller limit) and try again"
            ) from exc

    @contextmanager
    def _reader(self, seconds: float) -> Iterator[Any]:
        if self.readers is not None:
            with self.readers.connection(seconds) as connection:
                yield connection
        else:  # an in-memory database has one connection: reads share it with the writer
            with self.lock, deadline(self.connection, seconds):
                yield self.connection
