"""Every Pepper server reports Pepper's version, advertises no prompts, and answers invalid
arguments in one sentence naming the argument and what it accepts (in-memory MCP, both eras),
whichever framework `surface.pepper_server` built it on (the context store: the SDK's MCPServer)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError
from mcp.server.mcpserver import MCPServer

from mcp_servers.common.surface import SDK_SERVERS, PepperServer
from tests.mcp_servers import servers

pytestmark = pytest.mark.anyio

BUILDERS: dict[str, Callable[[Path], PepperServer]] = {
    "gmail": lambda tmp_path: servers.gmail(tmp_path)[0],
    "calendar": servers.calendar,
    "context_store": servers.context_store,
    "notify": servers.notify,
}
# (server, tool, arguments, the whole error text)
INVALID = [
    ("gmail", "search_messages", {"limit": 0}, "limit was 0, but it accepts a whole number from 1 to 500."),
    ("gmail", "search_messages", {"query": 5}, "query was 5, but it accepts text of at most 2,000 characters."),
    ("gmail", "get_message", {}, "id is required: give text of at least 1 character."),
    ("gmail", "send_message", {"message": {"to": []}}, "message.to was [], but it accepts a list of at least 1 item."),
    ("gmail", "list_labels", {"label": "x"}, "label is not an argument of this tool; it takes: no arguments."),
    ("calendar", "find_free_slots", {"duration": "PT30M", "window": {"start": "x", "end": "y"}},
     "window.start was 'x', but it accepts a date and time (ISO 8601) or a date (YYYY-MM-DD)."),
    ("context_store", "query", {"limit": "x"}, "limit was 'x', but it accepts a whole number."),
    ("context_store", "get", {"namespace": "notes", "idd": "x"},
     "idd is not an argument of this tool; it takes: id, namespace."),
    ("context_store", "get_many", {"namespace": "notes", "ids": []},
     "ids was [], but it accepts a list of 1 to 1,000 items."),
    ("notify", "list_notifications", {"limit": "many"}, None),
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(BUILDERS))
async def test_server_reports_peppers_version_and_no_prompts(name: str, tmp_path: Path) -> None:
    async with Client(BUILDERS[name](tmp_path), mode="legacy") as client:
        result = client.initialize_result
        assert result is not None
        assert result.server_info.version == importlib.metadata.version("pepper")
        assert result.capabilities.prompts is None and result.capabilities.tools is not None


@pytest.mark.parametrize(
    ("name", "tool", "arguments", "text"), INVALID, ids=[f"{n}-{t}" for n, t, *_ in INVALID]
)
async def test_invalid_argument_is_one_sentence_naming_it(
    name: str, tool: str, arguments: dict, text: str | None, tmp_path: Path
) -> None:
    async with Client(BUILDERS[name](tmp_path)) as client:
        with pytest.raises(ToolError) as refused:
            await client.call_tool(tool, arguments)
    message = str(refused.value)
    assert "\n" not in message and "validation error" not in message and "call[" not in message, message
    assert message.endswith(".") and message.split(".")[0].split()[0] in {*arguments, "id"}, message
    if text is not None:
        assert message == text


@pytest.mark.parametrize("name", sorted(BUILDERS))
async def test_each_server_is_built_on_the_framework_surface_picks(name: str, tmp_path: Path) -> None:
    server = BUILDERS[name](tmp_path)
    assert isinstance(server, MCPServer) == (server.name in SDK_SERVERS)
    assert isinstance(server, FastMCP) == (server.name not in SDK_SERVERS)


async def test_an_anticipated_error_reaches_the_client_as_written_and_an_answer_is_not_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(servers.context_store(tmp_path)) as client:
        with caplog.at_level("DEBUG"):
            with pytest.raises(ToolError) as missing:
                await client.call_tool("get", {"namespace": "notes", "id": "gone"})
            with pytest.raises(ToolError) as invalid:
                await client.call_tool("store", {"namespace": "Not Valid", "data": 1})
    # The SDK would prefix "Error executing tool get: "; the store's own sentence is the answer.
    assert str(missing.value) == "no item 'gone' in namespace 'notes': check the id, or query the namespace"
    assert str(invalid.value).startswith("invalid namespace 'Not Valid'"), str(invalid.value)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("mcp.")]
    assert not any("gone" in line for line in logged), logged  # "no such item" is an answer, not a fault
    assert any("Not Valid" in line for line in logged), logged  # a refused write is worth a line
