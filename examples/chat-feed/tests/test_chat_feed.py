"""The example on its own: the chat server in memory (FastMCP's in-process client), and the
ChatMentions plugin's choices. Pepper's tests run both for real (tests/orchestrator/extensions/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastmcp import Client
from pepper_chat_feed.feed import ChatMentions
from pepper_chat_feed.server import build_server

pytestmark = pytest.mark.anyio


async def test_posted_messages_are_in_the_channel_resource_in_order(tmp_path: Path) -> None:
    async with Client(build_server(tmp_path / "chat.sqlite3")) as client:
        await client.call_tool("post_message", {"channel": "launch", "author": "sam", "text": "hi"})
        await client.call_tool("post_message", {"channel": "launch", "author": "ari", "text": "@dana?"})
        await client.call_tool("post_message", {"channel": "random", "author": "kim", "text": "lunch"})
        [content] = await client.read_resource("chat://channel/launch")
        channels = await client.call_tool("list_channels", {})
    messages = json.loads(content.text)["messages"]
    assert [(m["id"], m["author"], m["text"]) for m in messages] == [
        ("1", "sam", "hi"),
        ("2", "ari", "@dana?"),
    ]
    assert channels.structured_content == {"result": ["launch", "random"]}


async def test_messages_survive_a_restart_of_the_server(tmp_path: Path) -> None:
    async with Client(build_server(tmp_path / "chat.sqlite3")) as client:
        await client.call_tool("post_message", {"channel": "launch", "author": "sam", "text": "kept"})
    async with Client(build_server(tmp_path / "chat.sqlite3")) as client:
        [content] = await client.read_resource("chat://channel/launch")
    assert [m["text"] for m in json.loads(content.text)["messages"]] == ["kept"]


def test_chat_mentions_needs_its_options() -> None:
    with pytest.raises(ValueError, match="chat_mentions needs the options channel, mention"):
        ChatMentions({"server": "chat"})
    feed = ChatMentions({"server": "chat", "channel": "launch", "mention": "@Dana"})
    assert (feed.server, feed.uri, feed.mention) == ("chat", "chat://channel/launch", "@dana")


async def test_list_changes_pages_from_a_cursor_without_gaps_or_repeats(tmp_path: Path) -> None:
    async with Client(build_server(tmp_path / "chat.sqlite3")) as client:
        for text in ("one", "two", "three"):
            await client.call_tool("post_message", {"channel": "launch", "author": "sam", "text": text})
        first = (await client.call_tool("list_changes", {"channel": "launch", "limit": 2})).structured_content
        rest = await client.call_tool("list_changes", {"channel": "launch", "since": first["cursor"]})
        after = await client.call_tool("list_changes", {"channel": "launch", "since": "3"})
        templates = await client.list_resource_templates()
    assert ([m["text"] for m in first["messages"]], first["cursor"], first["has_more"]) == (
        ["one", "two"],
        "2",
        True,
    )
    assert [m["text"] for m in rest.structured_content["messages"]] == ["three"]
    assert after.structured_content == {"messages": [], "cursor": "3", "has_more": False}
    assert {t.name: t.uri_template for t in templates} == {"read_channel": "chat://channel/{name}"}
