"""A server the user added is supervised like Pepper's own: killed, it shows as down, is respawned,
and its tools answer again."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import anyio
import pytest

from orchestrator.config import load_settings
from orchestrator.extensions.servers import connect
from orchestrator.mcp_clients import ConnectionState
from orchestrator.supervision.status import server_status
from tests.orchestrator.test_cli_run import children_of
from tests.support.reaping import ABANDONED_PROCESS_WARNINGS, collect_abandoned_processes
from tests.support.reference_servers import reference_server

__all__ = ["collect_abandoned_processes"]

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120), *ABANDONED_PROCESS_WARNINGS]


def server_pid(program: str) -> int:
    for pid in children_of(os.getpid()):
        if program in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return pid
    raise AssertionError(f"no child process runs {program}")


async def test_added_server_that_dies_is_respawned_and_answers_again(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    sqlite3.connect(db).close()
    config = tmp_path / "config.toml"
    program = reference_server("sqlite", "mcp-server-sqlite")
    config.write_text(f'[servers.notes]\ncommand = "{program}"\nargs = ["--db-path", "{db}"]\n')
    connection = connect(load_settings(config, data_dir=tmp_path), "notes")
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        await connection.call_tool("create_table", {"query": "CREATE TABLE notes (text TEXT)"})
        first = server_pid("mcp-server-sqlite")
        os.kill(first, signal.SIGKILL)
        with anyio.fail_after(30):
            while connection.state is not ConnectionState.DOWN:
                await connection.wait_changed()
            [status] = server_status({"notes": connection})
            assert status["state"] == "down" and status["error"]
            await connection.wait_available()
        outcome = await connection.call_tool("list_tables", {})
        assert "notes" in outcome.text
        assert server_pid("mcp-server-sqlite") != first and connection.reconnects == 1
        task_group.cancel_scope.cancel()
