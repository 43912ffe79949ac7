"""`serve pepper`: the running Pepper's health as an MCP resource and tool, over a real stdio session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from orchestrator.health.host import HEALTH_URI
from tests.support.processes import REPO_ROOT, PepperCli, child_env, free_port


def _health_transport(data: Path, env: dict[str, str]) -> StdioTransport:
    argv = ["-m", "orchestrator.cli", "serve", "pepper", "--data-dir", str(data)]
    return StdioTransport(sys.executable, argv, env=env, cwd=str(REPO_ROOT), keep_alive=False)


async def _read(transport: StdioTransport) -> tuple[dict, dict]:
    async with Client(transport) as client:
        resource = json.loads((await client.read_resource(HEALTH_URI))[0].text)
        tool = (await client.call_tool("get_health", {})).structured_content or {}
    return resource, tool


def test_health_of_a_running_pepper_lists_servers_and_sources(tmp_path: Path) -> None:
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    data = tmp_path / "data"
    pepper = PepperCli(["--demo", "--data-dir", str(data), "--port", str(free_port())], env)
    try:
        assert pepper.running.wait(timeout=120), pepper.stderr
        resource, tool = anyio.run(_read, _health_transport(data, env))
    finally:
        pepper.kill_if_running()

    assert resource["running"] is True and resource["mode"] == "rules"
    assert {server["name"] for server in resource["servers"]} == {"context", "gmail", "calendar", "notify"}
    assert {source["name"] for source in resource["sources"]} == {"mail", "calendar", "disk"}
    assert tool["running"] is True and tool["sources"]


def test_health_says_pepper_is_not_running_instead_of_failing(tmp_path: Path) -> None:
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_UI_PORT": str(free_port())})

    resource, tool = anyio.run(_read, _health_transport(tmp_path / "nothing", env))

    assert resource["running"] is False and "not running" in resource["error"]
    assert tool == resource
