"""Real servers for worker tests: the context store (for pending actions) and the peer test server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT


@pytest.fixture
async def connections(tmp_path: Path) -> AsyncIterator[dict[str, ServerConnection]]:
    env = {"PYTHONPATH": str(REPO_ROOT), "PEPPER_CONTEXT_EMBEDDER": "none"}
    specs = [
        ServerSpec(
            name="context",
            command=[sys.executable, "-m", "mcp_servers.context_store", "--db", str(tmp_path / "c.db")],
            env=env,
        ),
        ServerSpec(name="peer", command=[sys.executable, "-m", "tests.support.peer_server"], env=env),
    ]
    live = {spec.name: ServerConnection(spec) for spec in specs}
    async with anyio.create_task_group() as task_group:
        for connection in live.values():
            await task_group.start(connection.run)
        yield live
        task_group.cancel_scope.cancel()
