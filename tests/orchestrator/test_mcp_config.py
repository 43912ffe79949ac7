"""`pepper-orchestrator mcp-config` prints a host configuration that really starts each server."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from orchestrator.config import SERVER_MODULES
from tests.support.processes import REPO_ROOT, child_env


def print_config(tmp_path: Path, host: str) -> dict:
    env = child_env({"PEPPER_DATA_DIR": str(tmp_path), "PEPPER_CONFIG": str(tmp_path / "none.toml")})
    output = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "mcp-config", "--host", host],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(output)


def test_mcp_config_for_vscode_types_each_server(tmp_path: Path) -> None:
    servers = print_config(tmp_path, "vscode")["servers"]
    assert set(servers) == {f"pepper-{name}" for name in SERVER_MODULES}
    assert {entry["type"] for entry in servers.values()} == {"stdio"}


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(SERVER_MODULES))
async def test_mcp_config_entry_starts_the_server_over_stdio(tmp_path: Path, name: str) -> None:
    if importlib.util.find_spec(f"{SERVER_MODULES[name]}.__main__") is None:
        pytest.skip(f"{SERVER_MODULES[name]} has no __main__ yet")
    (tmp_path / "mail").mkdir()
    (tmp_path / "calendar").mkdir()
    entry = print_config(tmp_path, "claude-desktop")["mcpServers"][f"pepper-{name}"]
    env = child_env({**entry.get("env", {}), "PEPPER_CONTEXT_EMBEDDER": "none"})
    transport = StdioTransport(entry["command"], entry["args"], env=env, cwd=str(tmp_path), keep_alive=False)
    async with Client(transport) as client:
        tools = await client.list_tools()
    assert tools, f"{name} offers no tools"
