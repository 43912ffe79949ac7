"""A small MCP server that tests use as the far side of a client connection (`python -m`).

Tools: `echo` answers at once, `pid` names its process (so a test can kill it), `nap` sleeps for the
given seconds before answering (a call in flight), `refuse` raises a ToolError, `erase` (marked destructive) deletes the file it is given, and `bump`
changes the subscribable resource `peer://counter`.
"""

from __future__ import annotations

import os

import anyio
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

from mcp_servers.common.subscriptions import ResourceSubscriptions

server = FastMCP("peer")
subscriptions = ResourceSubscriptions()
subscriptions.install(server)
counter = {"value": 0}


@server.resource("peer://counter")
def read_counter() -> str:
    return str(counter["value"])


@server.tool
async def bump() -> int:
    counter["value"] += 1
    await subscriptions.notify("peer://counter")
    return counter["value"]


@server.tool
def echo(text: str) -> str:
    return text


@server.tool
def pid() -> int:
    return os.getpid()


@server.tool
async def nap(seconds: float) -> str:
    await anyio.sleep(seconds)
    return "rested"


@server.tool
def refuse(reason: str) -> str:
    raise ToolError(reason)


@server.tool(annotations={"destructiveHint": True, "readOnlyHint": False})
def erase(path: str) -> str:
    os.remove(path)
    return f"erased {path}"


if __name__ == "__main__":
    server.run(show_banner=False)
