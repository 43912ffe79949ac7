"""`get_messages`: a batch read of up to 100 messages in one call, with a clear error above it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.server import MAX_BATCH, build_server
from mcp_servers.gmail.settings import GmailSettings

from .maildirs import deliver
from .messages import plain_message

pytestmark = pytest.mark.anyio


def server_over(tmp_path: Path):
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    return build_server(GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "state"), provider)


async def test_get_messages_reads_many_in_the_order_asked_and_lists_the_missing(tmp_path: Path) -> None:
    keys = [deliver(tmp_path / "Mail", plain_message(subject=f"Item {i}")) for i in range(5)]
    asked = [keys[3], "no-such-id", keys[0], keys[3]]
    async with Client(server_over(tmp_path)) as client:
        batch = (await client.call_tool("get_messages", {"ids": asked})).structured_content
        single = (await client.call_tool("get_message", {"id": keys[0]})).structured_content
    assert [m["subject"] for m in batch["messages"]] == ["Item 3", "Item 0"]  # a repeated id is read once
    assert batch["messages"][1] == single  # the same normalized message as get_message
    assert list(batch["missing"]) == ["no-such-id"] and "no message with id" in batch["missing"]["no-such-id"]


async def test_get_messages_refuses_more_than_its_limit_with_what_to_do(tmp_path: Path) -> None:
    ids = [f"id{i}" for i in range(MAX_BATCH + 1)]
    async with Client(server_over(tmp_path)) as client:
        refused = await client.call_tool("get_messages", {"ids": ids}, raise_on_error=False)
        empty = await client.call_tool("get_messages", {"ids": []}, raise_on_error=False)
    assert refused.is_error
    assert refused.content[0].text == (
        "get_messages reads at most 100 ids per call, got 101: split the ids into batches of 100"
    )
    assert empty.is_error
