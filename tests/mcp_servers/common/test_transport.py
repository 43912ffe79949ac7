"""The HTTP transport guard: loopback by default, a bearer token off loopback or for other host names,
the Host/Origin allowlist in front (its real-HTTP tests are in test_http_hosts.py)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mcp_servers.common.startup import StartupError
from mcp_servers.common.transport import TransportOptions, http_middleware, is_loopback


def guarded_app(options: TransportOptions) -> Starlette:
    async def hello(request):
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/mcp", hello)], middleware=http_middleware(options))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1"])
def test_is_loopback_accepts_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.4", "::", "example.org"])
def test_is_loopback_rejects_other_addresses(host: str) -> None:
    assert not is_loopback(host)


def test_http_middleware_refuses_public_bind_without_token() -> None:
    with pytest.raises(StartupError, match="on 0.0.0.0 without a token"):
        http_middleware(TransportOptions(transport="http", host="0.0.0.0"))


def test_http_middleware_refuses_extra_host_names_without_token() -> None:
    with pytest.raises(StartupError, match="for the hosts pepper.lan without a token"):
        http_middleware(TransportOptions(transport="http", allowed_hosts=("pepper.lan",)))


def test_http_middleware_is_open_on_loopback_without_token() -> None:
    client = TestClient(guarded_app(TransportOptions(transport="http")), base_url="http://localhost")
    assert client.get("/mcp").text == "hello"


def test_http_middleware_checks_the_host_before_the_token() -> None:
    options = TransportOptions(transport="http", host="0.0.0.0", token=SecretStr("s3cret"))
    client = TestClient(guarded_app(options), base_url="http://evil.example")
    assert client.get("/mcp", headers={"Authorization": "Bearer s3cret"}).status_code == 421


def test_bearer_token_middleware_rejects_missing_and_wrong_tokens() -> None:
    options = TransportOptions(transport="http", host="0.0.0.0", token=SecretStr("s3cret"))
    client = TestClient(guarded_app(options), base_url="http://localhost")
    missing = client.get("/mcp")
    wrong = client.get("/mcp", headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert client.get("/mcp", headers={"Authorization": "Bearer s3cret"}).text == "hello"
