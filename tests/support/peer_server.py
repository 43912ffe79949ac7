"""A small MCP server that tests use as the far side of a client connection (`python -m`).

Tools: `echo` answers at once, `pid` names its process (so a test can kill it), `nap` sleeps for the
given seconds before answering (a call in flight), `refuse` raises a ToolError, `erase` (marked destructive) deletes the file it is given, and `bump`
changes the subscribable resource `peer://counter`. `stalled_read` (read-only) and `stalled_write` (a
write, not idempotent) hang for a minute on their first `stalls` calls for a key, then answer how
many calls that key has had; `calls` says the same without counting itself (for timeout tests).
`mislabelled` answers a result that its declared output schema does not allow.
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
calls_by_key: dict[str, int] = {}


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


@server.tool(output_schema={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
def mislabelled() -> dict:
    return {"n": "not a number"}


@server.tool
def refuse(reason: str) -> str:
    raise ToolError(reason)


@server.tool(annotations={"destructiveHint": True, "readOnlyHint": False})
def erase(path: str) -> str:
    os.remove(path)
    return f"erased {path}"


async def _stalled(key: str, stalls: int) -> int:
    calls_by_key[key] = count = calls_by_key.get(key, 0) + 1
    if count <= stalls:
        await anyio.sleep(60)
    return count


@server.tool(annotations={"readOnlyHint": True})
async def stalled_read(key: str, stalls: int) -> int:
    return await _stalled(key, stalls)


@server.tool(annotations={"readOnlyHint": False, "idempotentHint": False})
async def stalled_write(key: str, stalls: int) -> int:
    return await _stalled(key, stalls)


@server.tool(annotations={"readOnlyHint": True})
def calls(key: str) -> int:
    return calls_by_key.get(key, 0)


if __name__ == "__main__":
    server.run(show_banner=False)
