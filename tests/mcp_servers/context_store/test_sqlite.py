"""SQLite connections: extension loading on this Python, WAL, synchronous=NORMAL, busy timeout."""

from __future__ import annotations

from mcp_servers.context_store.sqlite import BUSY_TIMEOUT_MS, connect, sqlite_module


def test_connect_loads_sqlite_vec_and_sets_durability_pragmas(tmp_path) -> None:
    connection = connect(tmp_path / "sub" / "db.sqlite3")
    assert connection.execute("SELECT vec_version()").fetchone()[0].startswith("v")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    connection.close()


def test_sqlite_module_can_load_extensions() -> None:
    assert hasattr(sqlite_module().Connection, "enable_load_extension")
