"""A server the user added changes its tools while running: Pepper offers the new list at once,
without a restart, whichever protocol era the server speaks."""

from __future__ import annotations

import sys

import anyio
import pytest

from orchestrator.mcp_clients import ServerConnection, ServerSpec
from orchestrator.workers.toolbox import Toolbox
from tests.support.processes import REPO_ROOT, child_env
from tests.support.reference_servers import reference_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def growing_server(era: str) -> list[str]:
    if era == "2026-07-28":
        return [sys.executable, "-m", "tests.support.growing_server"]
    sdk_v1 = reference_server("sqlite", "python")  # that venv pins mcp 1.x: a handshake-era server
    return [str(sdk_v1), str(REPO_ROOT / "tests" / "support" / "growing_server_v1.py")]


@pytest.mark.parametrize("era", ["2026-07-28", "handshake"])
async def test_toolbox_offers_a_tool_the_server_adds_after_its_list_changed_notification(era: str) -> None:
    spec = ServerSpec(name="grower", command=growing_server(era), env=child_env())
    connection = ServerConnection(spec, follow_tools=True)
    toolbox = Toolbox({"grower": connection})
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        await toolbox.load()
        assert {name for _, name in toolbox.tools} == {"grow"}
        task_group.start_soon(toolbox.follow, ["grower"])
        await connection.call_tool("grow", {"name": "sprout"})
        with anyio.fail_after(20):
            while ("grower", "sprout") not in toolbox.tools:
                await toolbox.next_reload().wait()
        outcome = await connection.call_tool("sprout", {})
        assert outcome.text == "sprout grown"
        assert toolbox.tools[("grower", "sprout")].description == "The grown tool sprout."
        task_group.cancel_scope.cancel()
