"""The MCP stack bench measures working servers: the SDK's low-level and high-level servers it
starts answer `store` with a real upsert and `noop` through both clients, and the orchestrator's own
connection (`pepper`) stores through the shipped context store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench.mcp_stack import rate

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_the_sdk_servers_store_for_real_and_answer_both_clients(tmp_path: Path) -> None:
    assert await rate("sdk", "sdk-lowlevel", "store", 5, tmp_path) > 0
    assert await rate("fastmcp", "sdk-mcpserver", "noop", 5, tmp_path) > 0
    with sqlite3.connect(tmp_path / "sdk-sdk-lowlevel-store.sqlite3") as db:
        stored = db.execute("SELECT count(*) FROM items WHERE namespace='bench.stack'").fetchone()[0]
    assert stored == 5


async def test_the_orchestrator_s_own_connection_is_measured_against_the_shipped_store(
    tmp_path: Path,
) -> None:
    assert await rate("pepper", "context-store", "store", 5, tmp_path) > 0
    with sqlite3.connect(tmp_path / "pepper-context-store-store.sqlite3") as db:
        stored = db.execute("SELECT count(*) FROM items WHERE namespace='bench.stack'").fetchone()[0]
    assert stored == 5
