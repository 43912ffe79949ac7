"""Errors that say what happened to the database file: disk full (SQLITE_FULL through max_page_count,
and a real full tmpfs under a server process), a read-only data directory and a corrupt file at
start-up (one line, exit code 2), and a lock held past the busy timeout."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.context_store.errors import DatabaseLocked, DiskFull
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.server import build_server
from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.sqlite import connect
from mcp_servers.context_store.store import ContextStore
from tests.support.processes import REPO_ROOT, child_env, stdio_transport

MODULE = "mcp_servers.context_store"
ENV = {"PEPPER_CONTEXT_EMBEDDER": "none"}
BIG = "x" * 20_000


@contextlib.contextmanager
def mounted(*arguments: str) -> Iterator[None]:
    """`mount ARGUMENTS`, undone afterwards; skips the test where mounting is not allowed."""
    target = arguments[-1]
    if os.geteuid() != 0 or subprocess.run(["mount", *arguments], capture_output=True).returncode != 0:
        pytest.skip("mounting needs root and a kernel that allows it")
    try:
        yield
    finally:
        subprocess.run(["umount", target], check=True)


def start(db_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run the server to its end with stdin closed: an early exit is what these tests look at."""
    command = [sys.executable, "-m", MODULE, "--db", str(db_path), *flags]
    return subprocess.run(
        command,
        env=child_env(ENV),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines that report the failure (besides, say, a warning that semantic search is off)."""
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("pepper-context-store: ")]


def fill_until_full(store: ContextStore) -> list[str]:
    stored = []
    for i in range(10_000):
        try:
            stored.append(store.store(ItemInput(namespace="n", id=str(i), text=BIG)).id)
        except DiskFull:
            return stored
    raise AssertionError("the database never filled up")


def test_disk_full_says_so_keeps_every_acknowledged_write_and_recovers_without_restart(db_path: Path) -> None:
    store = ContextStore.open(db_path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 30}")  # a disk with room for a few items
    stored = fill_until_full(store)
    with pytest.raises(DiskFull, match=rf"^disk full: .* free space in {db_path.parent} and try again"):
        store.store(ItemInput(namespace="n", id="refused", text=BIG))
    assert [item.id for item in store.query(limit=1000)] == stored[::-1]  # reads still served
    store._db.execute("PRAGMA max_page_count = 1000000")  # space returns
    store.store(ItemInput(namespace="n", id="after", text=BIG))
    assert store.count() == (len(stored) + 1, len(stored) + 1)
    store.close()


@pytest.mark.sqlite_only  # it serves a ContextStore it opened itself
@pytest.mark.anyio
async def test_disk_full_reaches_the_caller_as_a_tool_error(
    db_path: Path, settings: ContextStoreSettings
) -> None:
    store = ContextStore.open(db_path)
    store._db.execute(f"PRAGMA max_page_count = {store._db.execute('PRAGMA page_count').fetchone()[0]}")
    async with Client(build_server(settings, store)) as client:
        with pytest.raises(ToolError, match="disk full: .* free space in"):
            await client.call_tool("store", {"namespace": "n", "text": BIG})
    store.close()


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_server_on_a_full_tmpfs_refuses_in_words_then_recovers_when_space_returns(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)):
        db_path, filler = disk / "context.sqlite3", disk / "filler"
        transport = stdio_transport(MODULE, ["--db", str(db_path)], ENV)
        async with Client(transport) as client:
            filler.write_bytes(b"\0" * 1_200_000)
            acknowledged = []
            with pytest.raises(ToolError, match=f"disk full: .* free space in {disk}"):
                for i in range(200):
                    await client.call_tool("store", {"namespace": "n", "id": str(i), "text": BIG})
                    acknowledged.append(str(i))
            filler.unlink()
            await client.call_tool("store", {"namespace": "n", "id": "after", "text": BIG})
            listed = await client.call_tool("query", {"limit": 1000})
            found = {item["id"] for item in listed.structured_content["items"]}
        await transport.close()  # the server must be gone before its disk is unmounted
        assert found == {*acknowledged, "after"}


@pytest.mark.slow
def test_a_read_only_data_directory_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    source, view = tmp_path / "data", tmp_path / "view"
    source.mkdir(), view.mkdir()
    ContextStore.open(source / "old.sqlite3").close()
    with mounted("--bind", "-o", "ro", str(source), str(view)):
        for name in ("old.sqlite3", "new.sqlite3"):
            result = start(view / name)
            assert result.returncode == 2
            [line] = failures(result)
            assert f"the data directory {view} is read-only" in line


@pytest.mark.slow
def test_a_file_that_is_not_a_database_is_one_line_and_exit_code_2_with_a_traceback_only_in_debug(
    tmp_path: Path,
) -> None:
    corrupt = tmp_path / "context.sqlite3"
    corrupt.write_bytes(b"these are not the bytes of a SQLite database " * 100)
    result = start(corrupt)
    assert result.returncode == 2
    [line] = failures(result)
    assert f"the database {corrupt} is corrupt or not a SQLite database" in line
    assert "move it aside" in line
    debug = start(corrupt, "--log-level", "DEBUG")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_a_lock_held_past_the_busy_timeout_is_named(db_path: Path) -> None:
    store = ContextStore.open(db_path, busy_timeout_ms=50)
    other = connect(db_path)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(DatabaseLocked, match=rf"database is locked: another process kept {db_path} locked"):
        store.store(ItemInput(namespace="n", data=1))
    other.execute("ROLLBACK")
    store.store(ItemInput(namespace="n", data=1))
    assert store.count() == (1, 1)
    other.close()
    store.close()
