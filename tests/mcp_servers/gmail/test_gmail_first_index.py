"""The Gmail API account's first index, against the emulator over real HTTP: newest first, a page
at a time with batch reads (requests counted), tools answering meanwhile with "indexing, N of M",
mail that arrives or changes during it not lost, and a restart midway that neither loses nor
duplicates (real server processes)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client

from mcp_servers.gmail.gmail_api import GmailApiProvider
from mcp_servers.gmail.gmail_backlog import START_KEY
from mcp_servers.gmail.journal import Journal
from tests.support.processes import stdio_transport

from .gmail_emulator import GmailEmulator
from .messages import plain_message

pytestmark = pytest.mark.anyio
COUNT = 450  # three steps of 200, 200 and 50; one listing page of 500


def fill(emulator: GmailEmulator, count: int = COUNT) -> list[str]:
    """`count` messages, oldest first (Gmail lists them newest first)."""
    return [emulator.deliver(plain_message(subject=f"Numbers {n}")) for n in range(count)]


async def test_first_sync_indexes_newest_first_in_steps_with_a_request_per_fifty_messages(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator)
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    steps: list[tuple[int, int]] = []

    async def changed() -> None:
        if (progress := provider.indexing) is not None:
            steps.append((progress.indexed, progress.total))

    await provider.connect()
    try:
        before = emulator.mailbox.requests
        await provider.index(changed)
        requests = emulator.mailbox.requests - before
        page = await provider.list_changes(None, 1000, live=True)
        journal = await provider.list_changes(None, 1000)
    finally:
        await provider.aclose()
    assert steps == [(200, COUNT), (400, COUNT), (COUNT, COUNT)]  # M is the profile's messagesTotal
    assert [change.message_id for change in journal.changes] == ids[::-1]  # newest first, once each
    assert page.changes == []  # every entry is the first index's backlog, none "seen happen"
    calls = [call for call in emulator.mailbox.calls if not call.startswith("GET messages/")]
    assert calls.count("GET messages") == 1 and emulator.mailbox.batches == [50] * 9
    assert requests == 1 + 9 + 2  # one listing page, 9 batches, history at the end (2 syncs)


async def test_mail_arriving_changed_or_deleted_during_the_first_sync_is_not_lost(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator)
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.connect()
    try:
        store: Any = provider._store
        await provider._run(lambda _: store.index_step(200))
        arrived = emulator.deliver(plain_message(subject="Just arrived"))
        arrivals = [await provider._run(lambda _: store.scan()) for _ in range(2)]
        live = await provider.list_changes(None, 100, live=True)
        with emulator.mailbox.lock:  # read elsewhere, and one indexed message deleted
            emulator.mailbox.messages[ids[-1]]["labelIds"] = ["INBOX"]
            emulator.mailbox.record("labelsRemoved", emulator.mailbox.messages[ids[-1]])
            emulator.mailbox.record("messagesDeleted", emulator.mailbox.messages.pop(ids[-2]))
        await provider.index(_nothing)
        changes = (await provider.list_changes(None, 1000)).changes
    finally:
        await provider.aclose()
    assert arrivals == [1, 0]  # journalled at once, ahead of the backlog, and once
    assert [change.message_id for change in live.changes] == [arrived]
    added = [change.message_id for change in changes if change.kind == "added"]
    assert added == [*ids[::-1][:200], arrived, *ids[::-1][200:]]
    assert [(c.kind, c.message_id, c.labels) for c in changes[len(added) :]] == [
        ("labels_changed", ids[-1], ["INBOX"]), ("deleted", ids[-2], [])
    ]  # fmt: skip


async def _nothing() -> None:
    pass


def server_env(emulator: GmailEmulator, state: Path) -> dict[str, str]:
    emulator.settings(state)  # writes the (expired, refreshable) token into the state directory
    return {"PEPPER_GMAIL_PROVIDER": "gmail", "PEPPER_GMAIL_STATE_DIR": str(state),
            "PEPPER_GMAIL_GMAIL_API_ENDPOINT": emulator.url, "PEPPER_GMAIL_GMAIL_TOKEN_URI": f"{emulator.url}token",
            "PEPPER_GMAIL_POLL_SECONDS": "3600"}  # fmt: skip


async def held(emulator: GmailEmulator) -> None:
    """Until a batch request waits at the emulator's gate (the first sync is midway)."""
    assert await anyio.to_thread.run_sync(lambda: emulator.wait_until(lambda box: box.batches_held > 0, 30))


async def all_changes(client: Client, live: bool = False) -> tuple[list[str], int]:
    """Every change id from the beginning, once the first index is done; and how many pages said
    "indexing" on the way."""
    seen: list[str] = []
    cursor, partial = None, 0
    with anyio.fail_after(60):
        while True:
            arguments: Mapping[str, Any] = {
                "limit": 500,
                "live": live,
                **({"since": cursor} if cursor else {}),
            }
            page = (await client.call_tool("list_changes", dict(arguments))).structured_content
            seen += [change["message_id"] for change in page["changes"]]
            cursor, partial = page["cursor"], partial + (page["indexing"] is not None)
            if page["indexing"] is None and not page["has_more"]:
                return seen, partial


@pytest.mark.slow
async def test_the_server_answers_during_the_first_sync_with_its_progress_over_stdio(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator)
    emulator.hold(ids[:-200])  # the first step's 200 messages, then the next step waits
    transport = stdio_transport("mcp_servers.gmail", [], server_env(emulator, tmp_path / "state"))
    try:
        async with Client(transport, timeout=30) as client:
            await held(emulator)
            found = (
                await client.call_tool("search_messages", {"query": "numbers", "limit": 500})
            ).structured_content
            arrived = emulator.deliver(plain_message(subject="Just arrived"))
            news = (await client.call_tool("search_messages", {"query": "arrived"})).structured_content
            emulator.hold([])
            seen, partial = await all_changes(client)
    finally:
        emulator.hold([])
    assert found["indexing"] == f"indexing, 200 of {COUNT}" and len(found["messages"]) == 200
    assert sorted(m["id"] for m in found["messages"]) == sorted(ids[-200:])  # the newest 200 came first
    assert [m["id"] for m in news["messages"]] == [arrived] and news["indexing"] is not None
    assert seen == [*ids[::-1][:200], arrived, *ids[::-1][200:]] and partial >= 1


@pytest.mark.slow
async def test_a_restart_midway_resumes_the_first_sync_without_losing_or_repeating(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator)
    before_listing = str(emulator.mailbox.history_id)
    env = server_env(emulator, tmp_path / "state")
    emulator.hold(ids[:-200])
    try:
        async with Client(stdio_transport("mcp_servers.gmail", [], env), timeout=30) as client:
            await held(emulator)
            first = (await client.call_tool("list_changes", {"limit": 500})).structured_content
    finally:
        emulator.hold([])  # the first server is gone (its held batch answers no one)
    arrived = emulator.deliver(plain_message(subject="While it was down"))
    batches_before = len(emulator.mailbox.batches)
    async with Client(stdio_transport("mcp_servers.gmail", [], env), timeout=30) as client:
        seen, _ = await all_changes(client)
    fetched_again = sum(emulator.mailbox.batches[batches_before:])
    start = Journal(next((tmp_path / "state").glob("gmail-*.sqlite3")))
    try:
        kept = (start.meta(START_KEY), start.meta("history_id"))
    finally:
        start.close()
    assert first["indexing"] == {"indexed": 200, "total": COUNT} and len(first["changes"]) == 200
    assert sorted(seen) == sorted([*ids, arrived]) and len(seen) == len(set(seen))  # none lost, none twice
    assert seen[:200] == ids[::-1][:200]  # what the first run journalled, kept
    assert fetched_again <= COUNT - 200 + 1 + 50  # the rest, the arrival, at most the held batch again
    assert kept[0] == before_listing and kept[1] is not None  # history read on from before the first listing


async def test_the_first_sync_pauses_while_gmail_refuses_and_goes_on_where_it_stopped(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator)
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    provider.retry_seconds = 0.05
    await provider.connect()
    try:
        store: Any = provider._store
        await provider._run(lambda _: store.index_step(200))
        emulator.revoke()
        async with anyio.create_task_group() as group:
            group.start_soon(provider.index, _nothing)
            refused = await anyio.to_thread.run_sync(
                lambda: emulator.wait_until(lambda box: box.calls.count("POST token refused") >= 2)
            )
            failing = provider.account_health.status().auth_failing
            emulator.reauthorize()
        changes = (await provider.list_changes(None, 1000)).changes
    finally:
        await provider.aclose()
    assert refused and failing  # tried again, and said why meanwhile
    assert [change.message_id for change in changes] == ids[::-1]  # then on from step 2, each once
    assert provider.account_health.status().state == "ok"


async def test_a_page_token_gmail_no_longer_takes_lists_again_from_the_newest(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = fill(emulator, 600)  # two listing pages: 500, then 100
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.connect()
    try:
        store: Any = provider._store
        for _ in range(2):
            await provider._run(lambda _: store.index_step(200))
        emulator.expire_page_tokens()
        batches = len(emulator.mailbox.batches)
        await provider.index(_nothing)
        changes = (await provider.list_changes(None, 1000)).changes
    finally:
        await provider.aclose()
    assert [change.message_id for change in changes] == ids[::-1]  # none lost, none twice
    assert sum(emulator.mailbox.batches[batches:]) == 200  # the indexed 400 were not read again
    assert emulator.mailbox.calls.count("GET messages") == 4  # page 1, page 2 refused, pages 1 and 2
