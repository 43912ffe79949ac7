"""A test MCP server whose tool list changes while it runs (`python -m tests.support.growing_server`).

`grow(name)` adds a tool called `name` (it answers "NAME grown") and announces the new list the way
either protocol era hears it: `notifications/tools/list_changed` on the calling session (handshake
era) and a `ToolsListChanged` event on every `subscriptions/listen` stream that asked for tool
changes (2026-07-28).
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from fastmcp import Context, FastMCP
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged

server = FastMCP("growing")
bus = InMemorySubscriptionBus()
listen_handler = ListenHandler(bus)


async def _listen(
    ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
) -> types.SubscriptionsListenResult:
    return await listen_handler(ctx, params)


server._mcp_server.add_request_handler(
    "subscriptions/listen", types.SubscriptionsListenRequestParams, _listen
)


@server.tool(annotations={"readOnlyHint": False})
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name`."""

    def grown() -> str:
        return f"{name} grown"

    server.tool(grown, name=name, description=f"The grown tool {name}.")
    try:
        await ctx.session.send_tool_list_changed()
    except Exception:  # a 2026-07-28 request has no session to notify: the listen stream below does
        pass
    await bus.publish(ToolsListChanged())
    return f"added {name}"


if __name__ == "__main__":
    server.run(show_banner=False)
