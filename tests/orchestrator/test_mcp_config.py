"""`pepper-orchestrator mcp-config` prints a host configuration that really starts each server."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from orchestrator.config import SERVER_MODULES
from tests.support.processes import REPO_ROOT, child_env


def run_mcp_config(
    tmp_path: Path, *arguments: str, config: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = child_env({"PEPPER_DATA_DIR": str(tmp_path), "PEPPER_CONFIG": str(tmp_path / "none.toml")})
    command = [sys.executable, "-m", "orchestrator.cli"]
    if config is not None:
        (tmp_path / "pepper.toml").write_text(config, encoding="utf-8")
        command += ["--config", str(tmp_path / "pepper.toml")]
    return subprocess.run(
        [*command, "mcp-config", *arguments],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip


def print_config(tmp_path: Path, host: str) -> dict:
    return json.loads(run_mcp_config(tmp_path, "--host", host).stdout)


def host_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a host like Claude Desktop gives a server it starts: PATH and HOME, and the entry's env."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], **(extra or {})}


def test_mcp_config_for_vscode_types_each_server(tmp_path: Path) -> None:
    servers = print_config(tmp_path, "vscode")["servers"]
    assert set(servers) == {f"pepper-{name}" for name in SERVER_MODULES} | {"pepper"}
    assert {entry["type"] for entry in servers.values()} == {"stdio"}


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(SERVER_MODULES))
async def test_mcp_config_entry_starts_the_server_over_stdio(tmp_path: Path, name: str) -> None:
    if importlib.util.find_spec(f"{SERVER_MODULES[name]}.__main__") is None:
        pytest.skip(f"{SERVER_MODULES[name]} has no __main__ yet")
    (tmp_path / "mail").mkdir()
    (tmp_path / "calendar").mkdir()
    entry = print_config(tmp_path, "claude-desktop")["mcpServers"][f"pepper-{name}"]
    env = host_env({**entry.get("env", {}), "PEPPER_CONTEXT_EMBEDDER": "none"})
    transport = StdioTransport(entry["command"], entry["args"], env=env, cwd=str(tmp_path), keep_alive=False)
    async with Client(transport) as client:
        tools = await client.list_tools()
    assert tools, f"{name} offers no tools"


def test_mcp_config_demo_points_at_the_demo_data_and_warns_without_it(tmp_path: Path) -> None:
    (tmp_path / "demo" / "mail" / "cur").mkdir(parents=True)

    plain = run_mcp_config(tmp_path)
    demo = json.loads(run_mcp_config(tmp_path, "--demo").stdout)["mcpServers"]

    assert f"the demo's is in {tmp_path / 'demo'}: add --demo" in plain.stderr
    assert str(tmp_path / "demo" / "mail") in demo["pepper-gmail"]["args"]
    assert str(tmp_path / "demo" / "context.sqlite3") in demo["pepper-context"]["args"]


def test_mcp_config_never_prints_a_password_and_its_serve_entry_still_starts(tmp_path: Path) -> None:
    (tmp_path / "mail" / "cur").mkdir(parents=True)
    config = '[servers.gmail.env]\nPEPPER_GMAIL_SMTP_PASSWORD = "hunter2-not-for-hosts"\n'

    printed = run_mcp_config(tmp_path, config=config)
    entry = json.loads(printed.stdout)["mcpServers"]["pepper-gmail"]

    assert "hunter2" not in printed.stdout + printed.stderr
    assert entry["args"][-4:] == ["serve", "gmail", "--data-dir", str(tmp_path)]
    assert "its secrets stay in the config file" in printed.stderr
    transport = StdioTransport(
        entry["command"], entry["args"], env=host_env(), cwd=str(tmp_path), keep_alive=False
    )

    async def labels() -> list[str]:
        async with Client(transport) as client:
            listed = await client.call_tool("list_labels", {})
        return [label["name"] for label in (listed.structured_content or {})["result"]]

    assert "INBOX" in anyio.run(labels)


def test_mcp_config_http_entry_carries_the_token_as_an_environment_reference(tmp_path: Path) -> None:
    config = '[servers.notify]\nurl = "http://127.0.0.1:8765/mcp"\ntoken = "tok-secret-1234"\n'

    printed = run_mcp_config(tmp_path, "--host", "vscode", config=config)
    entry = json.loads(printed.stdout)["servers"]["pepper-notify"]

    assert entry == {
        "type": "http",
        "url": "http://127.0.0.1:8765/mcp",
        "headers": {"Authorization": "Bearer ${env:PEPPER_NOTIFY_TOKEN}"},
    }
    assert "tok-secret" not in printed.stdout + printed.stderr
    assert "set PEPPER_NOTIFY_TOKEN in the host's environment" in printed.stderr
