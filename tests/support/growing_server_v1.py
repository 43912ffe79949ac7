"""The growing test server written against the 1.x MCP SDK, so it speaks only the handshake era.

Run it with the Python of the reference SQLite server's venv (tools/mcp-reference/sqlite, which
pins mcp 1.x): `grow(name)` adds a tool and sends `notifications/tools/list_changed`.
"""

from __future__ import annotations

from mcp.server.fastmcp import Context, FastMCP

server = FastMCP("growing-v1")


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name`."""

    def grown() -> str:
        return f"{name} grown"

    server.add_tool(grown, name=name, description=f"The grown tool {name}.")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run()
