"""A chat-like MCP server for the example: channels of messages in a SQLite file.

Tools: `post_message(channel, author, text)`, `list_channels()` and `list_changes(channel, since,
limit)` (the messages after a cursor, oldest first: `{"messages", "cursor", "has_more"}`, so a
reader that keeps the cursor resumes where it stopped). Resource template:
`chat://channel/{name}`, a JSON object `{"channel": name, "messages": [{"id", "author", "text",
"at"}, ...]}`, subscribable in both MCP protocol eras: every post notifies the channel's
subscribers. Messages survive a restart (`--db PATH`), so a feed that follows a channel can show it
resumes without losing or repeating any.

    python -m pepper_chat_feed.server --db chat.sqlite3
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

from mcp_servers.common.subscriptions import ResourceSubscriptions

__all__ = ["build_server", "main"]

SCHEMA = "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, channel TEXT, author TEXT, text TEXT, at TEXT)"


def build_server(db: Path) -> FastMCP:
    server = FastMCP("chat-example")
    subscriptions = ResourceSubscriptions()
    subscriptions.install(server)
    connection = sqlite3.connect(db, check_same_thread=False)
    connection.execute(SCHEMA)

    @server.resource("chat://channel/{name}", mime_type="application/json")
    def read_channel(name: str) -> str:
        rows = connection.execute(
            "SELECT id, author, text, at FROM messages WHERE channel = ? ORDER BY id", (name,)
        ).fetchall()
        messages = [{"id": str(i), "author": a, "text": t, "at": at} for i, a, t, at in rows]
        return json.dumps({"channel": name, "messages": messages})

    @server.tool(annotations={"readOnlyHint": False, "destructiveHint": False})
    async def post_message(channel: str, author: str, text: str) -> str:
        """Post `text` as `author` in `channel`; returns the new message's id."""
        if not channel.isidentifier():
            raise ToolError(f"channel {channel!r}: use letters, digits and _ only")
        with connection:
            cursor = connection.execute(
                "INSERT INTO messages (channel, author, text, at) VALUES (?, ?, ?, ?)",
                (channel, author, text, datetime.now(UTC).isoformat()),
            )
        await subscriptions.notify(f"chat://channel/{channel}")
        return str(cursor.lastrowid)

    @server.tool(annotations={"readOnlyHint": True})
    def list_changes(channel: str, since: str = "", limit: int = 100) -> dict:
        """The messages of `channel` after cursor `since` ("" for the first), at most `limit`."""
        if since and not since.isdigit():
            raise ToolError(f"since {since!r} is not a cursor from list_changes; omit it to start over")
        if not 1 <= limit <= 1000:
            raise ToolError(f"limit {limit} is outside 1-1000")
        rows = connection.execute(
            "SELECT id, author, text, at FROM messages WHERE channel = ? AND id > ? ORDER BY id LIMIT ?",
            (channel, int(since or 0), limit + 1),
        ).fetchall()
        messages = [{"id": str(i), "author": a, "text": t, "at": at} for i, a, t, at in rows[:limit]]
        cursor = messages[-1]["id"] if messages else since
        return {"messages": messages, "cursor": cursor, "has_more": len(rows) > limit}

    @server.tool(annotations={"readOnlyHint": True})
    def list_channels() -> list[str]:
        """The channels that have messages."""
        return [row[0] for row in connection.execute("SELECT DISTINCT channel FROM messages ORDER BY 1")]

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite file that keeps the messages")
    build_server(parser.parse_args(argv).db).run(show_banner=False)


if __name__ == "__main__":
    main()
