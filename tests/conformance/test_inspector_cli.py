"""The MCP Inspector CLI lists and calls every Pepper server's tools over stdio, as a host would.

Each Inspector invocation spawns the server itself (`python -m mcp_servers.<name> ...`), so these are
real processes speaking stdio. `tools/list` runs with `--strict`, which fails on tool schemas that
other MCP hosts could not use. The `tools/call` check runs the server's probe (servers.py): each call
in its own process, on the same scratch data, the last result mentioning what the data holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.inspector import call_tool, list_tools
from tests.conformance.node_tools import NodeTools
from tests.conformance.servers import MARKER, SERVERS, PepperServer, require_server

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class Listing:
    """A server started on scratch data, and the tools the Inspector listed for it."""

    server: PepperServer
    server_args: list[str]
    scratch: Path
    tools: list[dict[str, Any]]


@pytest.fixture(scope="module", params=SERVERS, ids=lambda server: server.name)
def listing(
    request: pytest.FixtureRequest, node_tools: NodeTools, tmp_path_factory: pytest.TempPathFactory
) -> Listing:
    """`tools/list --strict` over stdio, once per server for the tests of this module."""
    server: PepperServer = request.param
    require_server(server)
    scratch = tmp_path_factory.mktemp(server.name)
    server_args = server.prepare(scratch)

    result = list_tools(node_tools, server.module, server_args, server.environment(scratch), scratch)

    assert result.returncode == 0, result.describe()
    tools = result.json()["tools"]
    assert tools, f"{server.module} lists no tools:\n{result.describe()}"
    return Listing(server, server_args, scratch, tools)


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


@pytest.mark.slow
def test_inspector_lists_conventional_tools_over_stdio(listing: Listing) -> None:
    problems = {tool["name"]: tool_problems(tool) for tool in listing.tools}

    assert not any(problems.values()), {name: found for name, found in problems.items() if found}


@pytest.mark.slow
def test_inspector_calls_tools_over_stdio(listing: Listing, node_tools: NodeTools) -> None:
    server, scratch = listing.server, listing.scratch
    env = server.environment(scratch)
    results = []
    for call in server.probe:
        result = call_tool(
            node_tools, server.module, listing.server_args, env, scratch, call.name, call.arguments
        )
        assert result.returncode == 0, result.describe()
        results.append(result.json())

    assert all(result["isError"] is False for result in results), results
    assert MARKER in json.dumps(results[-1]["structuredContent"]), results[-1]
