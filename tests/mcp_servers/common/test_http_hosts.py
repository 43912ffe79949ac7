"""DNS rebinding and cross-port Origin against each real MCP server over HTTP: only the allowed host
names on the server's own port get in, and an Origin must be this very server's."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.processes import free_port, http_server
from tests.support.raw_jsonrpc import INITIALIZE, MCP_ACCEPT, SERVERS

pytestmark = pytest.mark.slow

TOKEN = "lan-token-for-the-host-test"


def initialize(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url, content=json.dumps(INITIALIZE), headers={**MCP_ACCEPT, **headers}, timeout=30)


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_mcp_server_refuses_rebinding_and_other_origins(server: str, tmp_path: Path) -> None:
    recipe = SERVERS[server]
    with http_server(recipe.module, recipe.arguments(tmp_path), recipe.env) as url:
        port = urlsplit(url).port
        rebound = initialize(url, Host=f"evil.example:{port}", Origin=f"http://evil.example:{port}")
        other_port = initialize(url, Origin=f"http://127.0.0.1:{free_port()}")
        other_scheme = initialize(url, Origin=f"https://localhost:{port}")
        same_origin = initialize(url, Host=f"localhost:{port}", Origin=f"http://localhost:{port}")
        no_origin = initialize(url)
    assert rebound.status_code == 421 and "evil.example" in rebound.json()["error"]
    assert other_port.status_code == other_scheme.status_code == 403
    assert same_origin.status_code == no_origin.status_code == 200
    assert "mcp-session-id" in same_origin.headers


def test_mcp_server_on_all_interfaces_answers_only_its_configured_names_with_the_token(
    tmp_path: Path,
) -> None:
    recipe = SERVERS["notify"]
    env = {**recipe.env, "PEPPER_NOTIFY_TOKEN": TOKEN, "PEPPER_NOTIFY_ALLOWED_HOSTS": "pepper.lan"}
    with http_server(recipe.module, [*recipe.arguments(tmp_path), "--host", "0.0.0.0"], env) as url:
        port = urlsplit(url).port
        lan = {"Host": f"pepper.lan:{port}", "Origin": f"http://pepper.lan:{port}"}
        allowed = initialize(url, Authorization=f"Bearer {TOKEN}", **lan)
        tokenless = initialize(url, **lan)
        rebound = initialize(url, Authorization=f"Bearer {TOKEN}", Host=f"evil.example:{port}")
        unspecified = initialize(url, Authorization=f"Bearer {TOKEN}", Host=f"0.0.0.0:{port}")
    assert allowed.status_code == 200
    assert tokenless.status_code == 401
    assert rebound.status_code == unspecified.status_code == 421
