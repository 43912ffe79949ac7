"""Crashes on the PostgreSQL backend: a context-store process SIGKILLed in the middle of a
`store_many`, and PostgreSQL itself restarted (immediate mode: a crash and recovery) while writers
and a consumer run. Nothing acknowledged may be lost, no batch torn, no position skipped by the
consumer; while the database is away calls fail in words, and they recover by themselves after.
Also the server process on PostgreSQL end to end: subscriptions in both eras, and one line with exit
code 2 when the database cannot be reached at start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import psycopg
import pytest
from fastmcp import Client

from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.postgres import PostgresStorage
from mcp_servers.context_store.postgres.errors import DatabaseUnavailable
from tests.support.processes import child_env, stdio_transport

from .test_processes import ENV, MODULE, check_both_eras, pid_serving
from .test_storage_errors import failures

pytestmark = [pytest.mark.slow]


@pytest.fixture
def pg_tenant(postgres_url: str) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")


async def all_positions(storage: PostgresStorage) -> list[int]:
    positions, after = [], 0
    while True:
        page = await storage.read_events(after, limit=1000)
        positions += [event.seq for event in page.events]
        after = page.next_after
        if not page.has_more:
            return positions


async def wait_for_an_open_write(url: str, tenant: str, give_up: float) -> None:
    """Until a transaction holds a write lock on the tenant's items (it is mid-batch), or `give_up` s."""
    query = (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = 'items' AND l.mode = 'RowExclusiveLock'"
    )
    with anyio.move_on_after(give_up):
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            while True:
                if (await (await connection.execute(query, (f"pepper_{tenant}",))).fetchone())[0]:
                    return
                await anyio.sleep(0.001)  # PostgreSQL sends no event when a lock is taken: ask every ms


@pytest.mark.anyio
async def test_sigkill_of_a_server_during_store_many_loses_no_acknowledged_write_and_tears_no_batch(
    postgres_url: str, pg_tenant: str, db_path: Path
) -> None:
    batch_size = 3000
    env = {**ENV, "PEPPER_CONTEXT_DATABASE_URL": postgres_url, "PEPPER_CONTEXT_TENANT": pg_tenant}
    acknowledged: list[str] = []
    # --db is unused with PostgreSQL: it only marks the process, so that it can be found and killed.
    async with Client(stdio_transport(MODULE, ["--db", str(db_path)], env)) as client:
        for batch in range(2):
            items = [
                {"namespace": "crash", "id": f"{batch}-{i}", "data": {"n": i}} for i in range(batch_size)
            ]
            started = anyio.current_time()
            await client.call_tool("store_many", {"items": items})
            round_trip = anyio.current_time() - started
            acknowledged.append(f"{batch}-{batch_size - 1}")
        pid = pid_serving(db_path)
        doomed = [{"namespace": "crash", "id": f"doomed-{i}", "data": {"n": i}} for i in range(batch_size)]

        async def kill_midway() -> None:
            await wait_for_an_open_write(postgres_url, pg_tenant, give_up=round_trip * 3)
            os.kill(pid, signal.SIGKILL)

        with pytest.raises(Exception):  # noqa: B017 - the connection dies with the server, any error will do
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(kill_midway)
                await client.call_tool("store_many", {"items": doomed})
    storage = await PostgresStorage.open(postgres_url, pg_tenant)
    items, logged = await storage.count()
    assert items == logged, "the event log and the items disagree"
    assert items in (2 * batch_size, 3 * batch_size), f"a torn batch: {items} items"
    for item_id in acknowledged:
        assert (await storage.get("crash", item_id)).id == item_id
    assert await all_positions(storage) == list(range(1, logged + 1))
    await storage.aclose()


@pytest.mark.anyio
async def test_a_postgres_restart_during_writes_is_reported_in_words_and_recovered_from_by_itself(
    postgres_server, postgres_url: str, pg_tenant: str
) -> None:
    from pgserver._commands import pg_ctl

    writer = await PostgresStorage.open(postgres_url, pg_tenant, connect_seconds=2.0)
    acknowledged: list[str] = []
    errors: list[str] = []
    writes_before, restarted, recovered = anyio.Event(), anyio.Event(), anyio.Event()

    async def write() -> None:
        batch, after_restart = 0, 0
        while after_restart < 3:
            items = [ItemInput(namespace="crash", id=f"{batch}-{i}", data=i) for i in range(200)]
            try:
                await writer.store_many(items)
            except DatabaseUnavailable as exc:
                errors.append(str(exc))
            else:
                acknowledged.extend(item.id for item in items if item.id)
                after_restart += restarted.is_set()
            if batch == 2:
                writes_before.set()
            batch += 1
        recovered.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(write)
        await writes_before.wait()
        await anyio.to_thread.run_sync(
            lambda: pg_ctl(
                ["-w", "-m", "immediate", "restart"],
                pgdata=postgres_server.pgdata,
                user=postgres_server.system_user,
            )
        )
        restarted.set()
        with anyio.fail_after(60):
            await recovered.wait()
    assert errors, "the restart went unnoticed: no write was cut off"
    assert all("is unavailable" in error and "retry it" in error for error in errors), errors
    items, logged = await writer.count()
    assert items == logged
    async with writer.pool.connection() as db:
        stored = {row[0] for row in await (await db.execute("SELECT id FROM items")).fetchall()}
    assert set(acknowledged) <= stored, "an acknowledged write was lost"
    assert await all_positions(writer) == list(range(1, logged + 1))
    await writer.aclose()


@pytest.mark.anyio
async def test_a_stdio_server_on_postgres_delivers_subscriptions_in_both_eras(
    postgres_url: str, pg_tenant: str, db_path: Path
) -> None:
    env = {**ENV, "PEPPER_CONTEXT_DATABASE_URL": postgres_url, "PEPPER_CONTEXT_TENANT": pg_tenant}
    await check_both_eras(
        lambda **options: Client(stdio_transport(MODULE, ["--db", str(db_path)], env), **options)
    )


def test_an_unreachable_postgres_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    env = child_env({**ENV, "PEPPER_CONTEXT_DATABASE_URL": f"postgresql://pepper@/pepper?host={tmp_path}"})
    done = subprocess.run(
        [sys.executable, "-m", MODULE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    [line] = failures(done)
    assert "cannot start: the PostgreSQL server" in line and "is unavailable" in line
