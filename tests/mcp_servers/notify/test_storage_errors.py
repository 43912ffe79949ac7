"""The notify server's storage failures, in words: disk full (SQLITE_FULL through max_page_count, and
a real full tmpfs under the server: a ToolError in words, reads still served), a read-only data
directory and a corrupt file at start (one line, exit status 2), and a lock held past the busy
timeout. Nothing acknowledged is lost, and writes resume once the cause is gone, without a restart.
(A directory cannot be made read-only under a server that has its database open for writing: the
kernel refuses the remount while the file is open.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.notify.errors import DatabaseLocked, DiskFull
from mcp_servers.notify.server import build_server
from mcp_servers.notify.settings import NotifySettings
from mcp_servers.notify.store import NewNotification, Store
from tests.mcp_servers.notify.conftest import START
from tests.support.mounts import mounted
from tests.support.processes import REPO_ROOT, child_env

MODULE = "mcp_servers.notify"
ENV = {"PEPPER_NOTIFY_DESKTOP": "off", "PEPPER_NOTIFY_RATE_LIMIT_PER_MINUTE": "100000"}
BIG = "x" * 20_000


def add(store: Store, title: str) -> str:
    new = NewNotification(title=title, body=BIG, priority="high", source="test")
    notification, _ = store.add_notification(new, ["inbox"], START, 3600.0, None)
    return notification.id


def listed(store: Store) -> set[str]:
    return {n.title for n in store.list_notifications(START, False, None, 500)}


def fill_until_full(store: Store) -> list[str]:
    stored = []
    for i in range(10_000):
        try:
            add(store, str(i))
        except DiskFull:
            return stored
        stored.append(str(i))
    raise AssertionError("the database never filled up")


def test_disk_full_says_so_keeps_every_acknowledged_notification_and_recovers_without_restart(
    db_path: Path,
) -> None:
    store = Store(db_path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 30}")  # a disk with room for a few
    stored = fill_until_full(store)
    with pytest.raises(DiskFull, match=rf"^disk full: .* free space in {db_path.parent} and try again"):
        add(store, "refused")
    assert listed(store) == set(stored)  # reads are still served, and nothing acknowledged is lost
    store._db.execute("PRAGMA max_page_count = 1000000")  # space returns
    add(store, "after")
    assert listed(store) == {*stored, "after"}
    store.close()


def test_a_lock_held_past_the_busy_timeout_is_named_and_the_write_goes_through_once_released(
    db_path: Path,
) -> None:
    store = Store(db_path, busy_timeout_ms=50)
    other = Store(db_path)._db
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(DatabaseLocked, match=rf"database is locked: another process kept {db_path} locked"):
        add(store, "blocked")
    other.execute("ROLLBACK")
    add(store, "through")
    assert listed(store) == {"through"}
    other.close()
    store.close()


async def send(client: Client, title: str) -> dict[str, Any]:
    result = await client.call_tool("send_notification", {"title": title, "body": BIG, "priority": "high"})
    assert result.structured_content is not None
    return result.structured_content


async def titles(client: Client) -> set[str]:
    result = await client.call_tool("list_notifications", {"limit": 500})
    assert result.structured_content is not None
    return {n["title"] for n in result.structured_content["notifications"]}


@pytest.mark.anyio
async def test_a_full_tmpfs_is_a_tool_error_in_words_and_sending_resumes_when_space_returns(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)):
        settings = NotifySettings(
            db_path=disk / "notify.sqlite3", desktop="off", rate_limit_per_minute=100000
        )
        filler = disk / "filler"
        async with Client(build_server(settings)) as client:
            filler.write_bytes(b"\0" * 1_200_000)
            acknowledged = []
            with pytest.raises(ToolError, match=f"^disk full: .* free space in {disk} and try again"):
                for i in range(200):
                    await send(client, str(i))
                    acknowledged.append(str(i))
            assert await titles(client) == set(acknowledged)  # still serving reads
            filler.unlink()
            await send(client, "after")
            assert await titles(client) == {*acknowledged, "after"}


def start(db_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run the server to its end with stdin closed: an early exit is what these tests look at."""
    return subprocess.run(
        [sys.executable, "-m", MODULE, "--db", str(db_path), *flags],
        env=child_env(ENV),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("pepper-notify: ")]
    return line


@pytest.mark.slow
def test_a_read_only_data_directory_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    source, view = tmp_path / "data", tmp_path / "view"
    source.mkdir(), view.mkdir()
    Store(source / "old.sqlite3").close()
    with mounted("--bind", "-o", "ro", str(source), str(view)):
        for name in ("old.sqlite3", "new.sqlite3"):
            assert f"the data directory {view} is read-only" in failure(start(view / name))


@pytest.mark.slow
def test_a_file_that_is_not_a_database_is_one_line_and_exit_code_2_with_a_traceback_only_in_debug(
    tmp_path: Path,
) -> None:
    corrupt = tmp_path / "notify.sqlite3"
    corrupt.write_bytes(b"these are not the bytes of a SQLite database " * 100)
    line = failure(start(corrupt))
    assert f"the database {corrupt} is corrupt or not a SQLite database" in line
    assert "move it aside" in line
    debug = start(corrupt, "--log-level", "DEBUG")
    assert debug.returncode == 2 and "Traceback" in debug.stderr
