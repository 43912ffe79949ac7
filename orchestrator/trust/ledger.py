"""The orchestrator's own record of the latest version of each pending action, kept outside the
context store.

The context store is shared with other MCP hosts, and any of them can write back an older copy of an
action that this Pepper signed itself: the pending version from before the user approved, edited or
rejected it. Its signature is valid, so the signature alone cannot tell that it is stale. Every save
raises the action's `version` and records the version, its signature and the record here
(`data_dir/trust/actions.sqlite`, next to the signing key); a copy in the store with a lower version,
or the same version and another signature, is a replay (see `ContextActionStore`). Without a data
directory (tests, one-off tools) the record is kept in memory for the life of the process.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["ActionLedger", "LedgerEntry"]

LEDGER_FILE = Path("trust") / "actions.sqlite"
SCHEMA = """CREATE TABLE IF NOT EXISTS latest (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, signature TEXT NOT NULL, record TEXT NOT NULL)"""


class LedgerEntry(NamedTuple):
    version: int
    signature: str
    record: dict[str, Any]


class ActionLedger:
    """id → the latest (version, signature, record) this orchestrator saved."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._memory: dict[str, LedgerEntry] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._connect() as db, db:
                db.execute(SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ActionLedger:
        return cls(data_dir / LEDGER_FILE)

    def _connect(self) -> closing[sqlite3.Connection]:
        assert self._path is not None
        return closing(sqlite3.connect(self._path, timeout=10))

    def latest(self, action_id: str) -> LedgerEntry | None:
        if self._path is None:
            return self._memory.get(action_id)
        with self._connect() as db:
            row = db.execute(
                "SELECT version, signature, record FROM latest WHERE id = ?", (action_id,)
            ).fetchone()
        return None if row is None else LedgerEntry(int(row[0]), str(row[1]), json.loads(row[2]))

    def record(self, action_id: str, version: int, signature: str, record: dict[str, Any]) -> None:
        entry = LedgerEntry(version, signature, record)
        if self._path is None:
            self._memory[action_id] = entry
            return
        with self._connect() as db, db:
            db.execute(
                "INSERT OR REPLACE INTO latest (id, version, signature, record) VALUES (?, ?, ?, ?)",
                (action_id, version, signature, json.dumps(record, ensure_ascii=False)),
            )
