"""The shared Composio tool client against the local stand-in for Composio's execute endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from mcp_servers.common.composio_client import (
    ComposioAuthError,
    ComposioClient,
    ComposioConfig,
    ComposioToolFailedError,
    ComposioUnavailableError,
)
from tests.support.composio_server import API_KEY, ComposioServer, ToolFailure, composio_server


def echo(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"echo": arguments}


def wrapped(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"response_data": {"id": "x1"}}


def failing(arguments: dict[str, Any]) -> dict[str, Any]:
    raise ToolFailure("recipient_email is required")


@pytest.fixture
def server() -> Iterator[ComposioServer]:
    with composio_server({"ECHO": echo, "WRAPPED": wrapped, "FAILING": failing}) as running:
        yield running


def client_for(server: ComposioServer, **options: Any) -> ComposioClient:
    config = ComposioConfig(
        api_key=SecretStr(options.pop("api_key", API_KEY)), base_url=server.base_url, **options
    )
    return ComposioClient(config, keep_alive=False)


def test_execute_sends_the_arguments_and_the_account_and_returns_the_data(server: ComposioServer) -> None:
    client = client_for(server, user_id="ada", connected_account_id="ca_1", toolkit_version="20250906_01")
    assert client.execute("ECHO", {"query": "is:unread"}) == {"echo": {"query": "is:unread"}}
    _, _, body = server.calls[0]
    assert (body["user_id"], body["connected_account_id"], body["version"]) == ("ada", "ca_1", "20250906_01")


def test_execute_unwraps_response_data(server: ComposioServer) -> None:
    assert client_for(server).execute("WRAPPED", {}) == {"id": "x1"}


def test_unset_account_fields_are_not_sent(server: ComposioServer) -> None:
    client_for(server).execute("ECHO", {})
    assert set(server.calls[0][2]) == {"arguments"}


def test_tool_failure_names_the_tool_and_the_reason(server: ComposioServer) -> None:
    with pytest.raises(
        ComposioToolFailedError, match="FAILING failed: recipient_email is required"
    ) as caught:
        client_for(server).execute("FAILING", {})
    assert caught.value.status is None


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, ComposioAuthError, "refused the API key \\(401\\)"),
        (403, ComposioAuthError, "denied ECHO \\(403\\).*reconnect"),
        (500, ComposioUnavailableError, "failed on its side \\(500\\)"),
        (422, ComposioToolFailedError, "ECHO failed: injected failure 422"),
    ],
)
def test_http_errors_map_to_the_error_tree(
    server: ComposioServer, status: int, error: type, message: str
) -> None:
    server.fail_next(status)
    with pytest.raises(error, match=message):
        client_for(server).execute("ECHO", {})


def test_unknown_tool_says_to_check_the_slug_and_version(server: ComposioServer) -> None:
    with pytest.raises(ComposioToolFailedError, match="no such tool.*slug and the toolkit version") as caught:
        client_for(server).execute("NOPE", {})
    assert caught.value.status == 404


def test_unreachable_composio_is_unavailable(server: ComposioServer) -> None:
    server.stop()
    with pytest.raises(ComposioUnavailableError, match="cannot reach Composio at http://127.0.0.1"):
        client_for(server).execute("ECHO", {})
