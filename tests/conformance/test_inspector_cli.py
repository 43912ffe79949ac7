"""The MCP Inspector CLI lists and calls every Pepper server's tools over stdio, as a host would.

Each Inspector invocation spawns the server itself (`python -m mcp_servers.<name> ...`), so these are
real processes speaking stdio. `tools/list` runs with `--strict`, which fails on tool schemas that
other MCP hosts could not use. The `tools/call` check calls a read-only tool that needs no arguments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.inspector import call_tool, list_tools
from tests.conformance.node_tools import NodeTools
from tests.conformance.servers import SERVERS, PepperServer, require_server

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def listed_tools(node_tools: NodeTools, server: PepperServer, scratch: Path) -> tuple[list[str], list[dict]]:
    """The server's flags for `scratch` and the tools the Inspector lists."""
    server_args = server.prepare(scratch)
    result = list_tools(node_tools, server.module, server_args, server.environment(scratch), scratch)
    assert result.returncode == 0, result.describe()
    tools = result.json()["tools"]
    assert tools, f"{server.module} lists no tools:\n{result.describe()}"
    return server_args, tools


def tool_problems(tool: dict[str, Any]) -> list[str]:
    """What keeps `tool` from following the project's tool conventions."""
    problems = []
    if not SNAKE_CASE.match(tool["name"]):
        problems.append("name is not snake_case")
    if not tool.get("description", "").strip():
        problems.append("no description")
    if tool.get("inputSchema", {}).get("type") != "object":
        problems.append("inputSchema is not an object schema")
    if "readOnlyHint" not in (tool.get("annotations") or {}):
        problems.append("no readOnlyHint annotation")
    return problems


def read_only_tool_without_required_arguments(tools: list[dict]) -> dict | None:
    """The first (by name) tool that is read-only and can be called with no arguments."""
    candidates = [
        tool
        for tool in tools
        if (tool.get("annotations") or {}).get("readOnlyHint") is True
        and not tool.get("inputSchema", {}).get("required")
    ]
    return min(candidates, key=lambda tool: tool["name"], default=None)


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS, ids=lambda server: server.name)
def test_inspector_lists_conventional_tools_over_stdio(
    server: PepperServer, node_tools: NodeTools, tmp_path: Path
) -> None:
    require_server(server)

    _, tools = listed_tools(node_tools, server, tmp_path)

    problems = {tool["name"]: tool_problems(tool) for tool in tools}
    assert not any(problems.values()), {name: found for name, found in problems.items() if found}


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS, ids=lambda server: server.name)
def test_inspector_calls_read_only_tool_over_stdio(
    server: PepperServer, node_tools: NodeTools, tmp_path: Path
) -> None:
    require_server(server)
    server_args, tools = listed_tools(node_tools, server, tmp_path)
    tool = read_only_tool_without_required_arguments(tools)
    assert tool is not None, f"{server.module} has no read-only tool callable without arguments"

    result = call_tool(
        node_tools, server.module, server_args, server.environment(tmp_path), tmp_path, tool["name"], {}
    )

    assert result.returncode == 0, result.describe()
    assert result.json()["isError"] is False, result.describe()
