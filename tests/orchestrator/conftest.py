"""Real MCP servers for orchestrator tests, started as child processes over stdio.

`connections` holds live `ServerConnection`s to the servers a test names with
`@pytest.mark.servers("context", "notify", "peer")`: the context store (no embedder, a fresh
database), the notify server (a fresh database), the gmail server (a Maildir under `tmp_path/mail`,
sending allowed), the calendar server (ICS files under `tmp_path/calendar`) and the peer test server.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT


def server_specs(tmp_path: Path) -> list[ServerSpec]:
    env = {"PYTHONPATH": str(REPO_ROOT), "PEPPER_CONTEXT_EMBEDDER": "none"}
    python = [sys.executable, "-m"]
    return [
        ServerSpec(
            name="context",
            command=[*python, "mcp_servers.context_store", "--db", str(tmp_path / "c.db")],
            env=env,
        ),
        ServerSpec(
            name="notify", command=[*python, "mcp_servers.notify", "--db", str(tmp_path / "n.db")], env=env
        ),
        ServerSpec(name="peer", command=[*python, "tests.support.peer_server"], env=env),
        ServerSpec(
            name="gmail",
            command=[
                *python,
                "mcp_servers.gmail",
                "--maildir",
                str(tmp_path / "mail"),
                "--state-dir",
                str(tmp_path / "gmail-state"),
                "--allow-send",
            ],
            env=env,
        ),
        ServerSpec(
            name="calendar",
            command=[*python, "mcp_servers.calendar", "--ics", str(tmp_path / "calendar")],
            env=env,
        ),
    ]


@pytest.fixture
async def connections(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, ServerConnection]]:
    marker = request.node.get_closest_marker("servers")
    wanted = set(marker.args) if marker else {"context"}
    for folder in ("mail/cur", "mail/new", "mail/tmp", "calendar"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    live = {spec.name: ServerConnection(spec) for spec in server_specs(tmp_path) if spec.name in wanted}
    async with anyio.create_task_group() as task_group:
        for connection in live.values():
            await task_group.start(connection.run)
        yield live
        task_group.cancel_scope.cancel()
