"""A server the user adds by `url` over streamable HTTP, its bearer token from the variable
`token_env` names: connected with the token, its tools offered as `NAME__tool` and called; with a
wrong token the server refuses and the connection says why. The server is Pepper's notify server
run as a stranger would run it (a child on 127.0.0.1 that requires a token)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from orchestrator.config import load_settings
from orchestrator.extensions.servers import connect
from orchestrator.mcp_clients import ServerUnavailable
from orchestrator.workers.toolbox import Toolbox
from tests.support.processes import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def settings(tmp_path: Path, url: str):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[servers.alerts]\nurl = "{url}"\ntoken_env = "ALERTS_TOKEN"\nread_tools = ["list_*"]\n'
    )
    return load_settings(config, data_dir=tmp_path)


async def test_added_http_server_is_reached_with_the_token_from_token_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_server(
        "mcp_servers.notify", ["--db", str(tmp_path / "n.db")], {"PEPPER_NOTIFY_TOKEN": "s3cret"}
    ) as url:
        monkeypatch.setenv("ALERTS_TOKEN", "s3cret")
        connection = connect(settings(tmp_path, url), "alerts")
        toolbox = Toolbox({"alerts": connection})
        async with anyio.create_task_group() as task_group:
            await task_group.start(connection.run)
            tools = await toolbox.load()
            listed = await connection.call_tool("list_notifications", {})
            task_group.cancel_scope.cancel()
    assert {"list_notifications", "send_notification"} <= {
        tool.name for tool in tools if tool.server == "alerts"
    }
    assert listed.structured is not None and listed.structured["notifications"] == []


async def test_added_http_server_with_a_wrong_token_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_server(
        "mcp_servers.notify", ["--db", str(tmp_path / "n.db")], {"PEPPER_NOTIFY_TOKEN": "s3cret"}
    ) as url:
        monkeypatch.setenv("ALERTS_TOKEN", "wrong")
        connection = connect(settings(tmp_path, url), "alerts")
        connection.connect_timeout = 5
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(connection.run)
            with pytest.raises(ServerUnavailable, match="alerts is not connected"):
                await connection.call_tool("list_notifications", {})
            task_group.cancel_scope.cancel()
    assert connection.calls["list_notifications"] == 0
