"""A server the user added is supervised like Pepper's own: killed, it shows as down, is respawned,
and its tools answer again; a feed that follows it resumes, catching up on what it had not seen and
repeating nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.app import Pepper
from orchestrator.config import load_settings
from orchestrator.extensions.servers import connect
from orchestrator.mcp_clients import ConnectionState
from orchestrator.supervision.status import server_status
from tests.orchestrator.extensions.test_feeds import feed_signals, mentions_notified, run_pepper, write_config
from tests.orchestrator.test_cli_run import children_of
from tests.support.reference_servers import reference_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


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


async def test_feed_resumes_after_its_server_dies_without_losing_or_repeating_entries(tmp_path: Path) -> None:
    config, data_dir = write_config(tmp_path), tmp_path / "data"

    async def kill_the_chat_server(pepper: Pepper) -> dict[str, Any]:
        chat = pepper.connections["chat"]
        await chat.call_tool("post_message", {"channel": "launch", "author": "ari", "text": "@dana first?"})
        await mentions_notified(pepper, 1)
        with sqlite3.connect(tmp_path / "chat.sqlite3") as db:  # an entry no update announced
            db.execute(
                "INSERT INTO messages (channel, author, text, at) VALUES ('launch', 'kim', '@dana unseen', '')"
            )
        os.kill(server_pid("pepper_chat_feed.server"), signal.SIGKILL)
        await mentions_notified(
            pepper, 2
        )  # the respawned server's subscription wakes the feed: it catches up
        return await feed_signals(pepper)

    signals = await run_pepper(config, data_dir, kill_the_chat_server)
    assert sorted(signals) == ["launch:1", "launch:2"]
    assert [data["summary"] for _, data in sorted(signals.items())] == [
        "ari mentioned you in #launch: @dana first?",
        "kim mentioned you in #launch: @dana unseen",
    ]
