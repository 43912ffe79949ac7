"""SQLite connections that can load sqlite-vec, with the durability and locking settings we rely on.

The stdlib `sqlite3` is used when it can load extensions; the pyenv CPython on our machines lacks
`enable_load_extension`, and there `pysqlite3.dbapi2` (pysqlite3-binary, which bundles a recent
SQLite) takes its place. Every connection runs in WAL mode with `synchronous=NORMAL`: in WAL a
committed transaction survives the death of the process (SIGKILL included); only an operating-system
crash or power loss can lose the last few transactions. A `busy_timeout` lets two processes write
the same file: the second writer waits for the lock instead of failing.
"""

from __future__ import annotations

import sqlite3 as _stdlib_sqlite3
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlite_vec

__all__ = ["BUSY_TIMEOUT_MS", "connect", "sqlite_module"]

BUSY_TIMEOUT_MS = 10_000
# Reads go through a memory map of up to 1 GiB of the file instead of SQLite's page cache: a vec0 KNN
# scans every stored vector, and over 100,000 of them the copies into the cache took 40% of a search.
MMAP_BYTES = 1 << 30


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


def connect(path: Path | str) -> Any:
    """Open `path` (created if missing) in autocommit mode with sqlite-vec loaded and WAL on."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    module = sqlite_module()
    # Autocommit (isolation_level=None): the store issues BEGIN IMMEDIATE itself, so that a writer
    # takes the write lock up front and waits on busy_timeout instead of failing on upgrade.
    connection = module.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.enable_load_extension(True)
    sqlite_vec.load(connection)
    connection.enable_load_extension(False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection
