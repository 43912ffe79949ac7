"""The server as real child processes: stdio and HTTP subscriptions, two writers, and SIGKILL mid-batch."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from mcp.client.subscriptions import listen

from mcp_servers.context_store.store import ContextStore
from tests.support.processes import http_server, stdio_transport

from .helpers import UpdateRecorder, legacy_subscribe

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MODULE = "mcp_servers.context_store"
SIGNALS = "context://namespace/signals.*"
ENV = {"PEPPER_CONTEXT_EMBEDDER": "none"}


def stdio_client(db_path: Path, **options) -> Client:
    return Client(stdio_transport(MODULE, ["--db", str(db_path)], ENV), **options)


async def check_both_eras(make_client) -> None:
    """Capability, then a notification on a matching write and none on a non-matching one, per era."""
    recorder = UpdateRecorder()
    async with make_client(mode="legacy", message_handler=recorder) as client:
        assert client.initialize_result.capabilities.resources.subscribe is True
        await legacy_subscribe(client, SIGNALS)
        await client.call_tool("store", {"namespace": "raw.email", "data": 1})
        await client.call_tool("store", {"namespace": "signals.email", "data": 2})
        assert await recorder.wait_for(1) == [SIGNALS]
        await client.call_tool("store", {"namespace": "signals.email", "data": 3})
        assert await recorder.wait_for(2) == [SIGNALS, SIGNALS]
    async with make_client() as client:
        assert client.session.server_capabilities.resources.subscribe is True
        async with listen(client.session, resource_subscriptions=[SIGNALS]) as updates:
            await client.call_tool("store", {"namespace": "raw.email", "data": 4})
            await client.call_tool("store", {"namespace": "signals.calendar", "data": 5})
            with anyio.fail_after(10):
                assert (await updates.__anext__()).uri == SIGNALS
            page = await client.call_tool("read_events", {"after": 3, "namespaces": ["signals.*"]})
            assert [e["namespace"] for e in page.structured_content["events"]] == ["signals.calendar"]


async def test_stdio_server_delivers_subscriptions_in_both_eras(db_path: Path) -> None:
    await check_both_eras(lambda **options: stdio_client(db_path, **options))


async def test_http_server_delivers_subscriptions_in_both_eras(db_path: Path) -> None:
    with http_server(MODULE, ["--db", str(db_path)], ENV) as url:
        await check_both_eras(lambda **options: Client(url, **options))


async def test_two_processes_write_concurrently_and_see_each_others_writes(db_path: Path) -> None:
    recorder = UpdateRecorder()
    async with (
        stdio_client(db_path, mode="legacy", message_handler=recorder) as first,
        stdio_client(db_path) as second,
    ):
        await legacy_subscribe(first, "context://namespace/from.second")

        async def write(client: Client, namespace: str) -> None:
            for batch in range(20):
                items = [{"namespace": namespace, "id": f"{batch}-{i}", "data": i} for i in range(50)]
                await client.call_tool("store_many", {"items": items})

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(write, first, "from.first")
            tasks.start_soon(write, second, "from.second")
        assert await recorder.wait_for(1)
        page = await first.call_tool("query", {"namespaces": ["from.*"], "limit": 1000})
        assert len(page.structured_content["items"]) == 1000
    store = ContextStore.open(db_path)
    assert store.count() == (2000, 2000)
    store.close()


async def test_a_write_in_one_server_process_wakes_the_subscriber_of_another_at_once(db_path: Path) -> None:
    # With the data_version poll every 30 s, only the commit wake-up can deliver within the deadline.
    slow_poll = {**ENV, "PEPPER_CONTEXT_POLL_INTERVAL_SECONDS": "30"}
    recorder = UpdateRecorder()
    listener = Client(
        stdio_transport(MODULE, ["--db", str(db_path)], slow_poll), mode="legacy", message_handler=recorder
    )
    writer = Client(stdio_transport(MODULE, ["--db", str(db_path)], slow_poll))
    async with listener, writer:
        await legacy_subscribe(listener, SIGNALS)
        for round in range(1, 4):
            await writer.call_tool("store", {"namespace": "signals.email", "data": round})
            with anyio.fail_after(3):
                assert await recorder.wait_for(round) == [SIGNALS] * round


def pid_serving(db_path: Path) -> int:
    """The pid of the server process started with `--db db_path`."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in command and str(db_path).encode() in command:
                return int(entry.name)
    raise LookupError(f"no server process for {db_path}")


async def test_sigkill_during_store_many_loses_no_acknowledged_write_and_tears_no_batch(
    db_path: Path,
) -> None:
    batch_size = 10_000
    acknowledged: list[str] = []
    async with stdio_client(db_path) as client:
        for batch in range(2):
            items = [
                {"namespace": "crash", "id": f"{batch}-{i}", "data": {"n": i}} for i in range(batch_size)
            ]
            started = anyio.current_time()
            await client.call_tool("store_many", {"items": items})
            round_trip = anyio.current_time() - started
            acknowledged.append(f"{batch}-{batch_size - 1}")
        await client.call_tool("store", {"namespace": "crash", "id": "single", "data": 1})
        acknowledged.append("single")
        pid = pid_serving(db_path)
        doomed = [{"namespace": "crash", "id": f"doomed-{i}", "data": {"n": i}} for i in range(batch_size)]

        wal = f"{db_path}-wal"
        wal_before = os.stat(wal).st_mtime_ns

        async def kill_midway() -> None:
            """SIGKILL as soon as the batch's transaction starts writing to the WAL (or after 3 round trips)."""
            with anyio.move_on_after(round_trip * 3):
                while os.stat(wal).st_mtime_ns == wal_before:  # noqa: ASYNC110 - a file offers no event
                    await anyio.sleep(0.0005)
            os.kill(pid, signal.SIGKILL)

        with pytest.raises(Exception):  # noqa: B017 - the connection dies with the server, any error will do
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(kill_midway)
                await client.call_tool("store_many", {"items": doomed})
    store = ContextStore.open(db_path)
    items, logged = store.count()
    assert items == logged, "the event log and the items disagree"
    assert items in (2 * batch_size + 1, 3 * batch_size + 1), f"a torn batch: {items} items"
    for item_id in acknowledged:
        assert store.get("crash", item_id).id == item_id
    assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
