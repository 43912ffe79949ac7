"""`get_messages`: a batch read of up to 100 messages in one call, with a clear error above it."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from fastmcp import Client

from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.maildir_store import MaildirStore
from mcp_servers.gmail.provider import MailProviderError
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


async def test_a_maildir_batch_is_parsed_outside_the_index_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New mail's `list_changes` does not wait for a batch of 100 to be parsed; a file that moved
    while it was read unlocked is read again under the lock."""
    keys = [deliver(tmp_path / "Mail", plain_message(subject=f"Item {i}")) for i in range(3)]
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await provider.connect()
    await provider.index(_nothing)
    reading, release, moved_once = threading.Event(), threading.Event(), []
    read = MaildirStore.read

    def slow_read(store: MaildirStore, row):
        if not moved_once:  # the first file "moves" under the unlocked read
            moved_once.append(row.id)
            raise MailProviderError(f"message {row.id} cannot be read: gone")
        reading.set()
        release.wait(10)
        return read(store, row)

    monkeypatch.setattr(MaildirStore, "read", slow_read)
    async with anyio.create_task_group() as group:
        batch: list = []
        group.start_soon(lambda: _collect(provider.get_messages(keys), batch))
        await anyio.to_thread.run_sync(reading.wait, 10)
        with anyio.fail_after(5):  # answered while the batch is still being read
            page = await provider.list_changes(None, 10)
        release.set()
    assert len(page.changes) == 3
    assert [m.subject for m in batch[0].messages] == ["Item 0", "Item 1", "Item 2"] and not batch[0].missing
    await provider.aclose()


async def _nothing() -> None:
    return None


async def _collect(call, into: list) -> None:
    into.append(await call)
