"""The gmail server's own storage (its index and change journal under --state-dir) failing, in words:
a full disk (SQLITE_FULL through max_page_count, and a real full tmpfs under a server over stdio),
a lock held past the busy timeout, a read-only state directory and a corrupt index at start (one
line, exit status 2, a traceback only at debug). Meanwhile messages are still read from the
Maildir, search and the change feed answer from the index as it is and say why it is behind, and
once the cause is gone the index catches up: no change the feed acknowledged is lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.gmail.index_errors import IndexStorageError
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.server import build_server
from mcp_servers.gmail.settings import GmailSettings
from tests.support.mounts import ext4_failing_on_demand, mounted
from tests.support.processes import REPO_ROOT, child_env, stdio_transport

from .maildirs import deliver
from .messages import plain_message

pytestmark = pytest.mark.anyio
MODULE = "mcp_servers.gmail"
BIG = "The quarterly numbers, line by line, for the board to read before Thursday.\n" * 700


def subjects(page: Any) -> set[str]:
    return {message.subject for message in page.messages}


async def test_a_full_index_is_said_searches_answer_from_it_and_it_catches_up_when_space_returns(
    tmp_path: Path,
) -> None:
    deliver(tmp_path / "Mail", plain_message(subject="before"))
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    provider.retry_seconds = 0.05
    await provider.open()
    db = provider._store.journal._db  # type: ignore[union-attr]
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")  # full
    late = deliver(tmp_path / "Mail", plain_message(subject="during", body=BIG))
    assert await provider.scan() == 0
    assert provider.index_trouble is not None
    assert provider.index_trouble.startswith(f"disk full: the database {provider.index_path} cannot grow")
    assert f"free space in {provider.index_path.parent}" in provider.index_trouble
    assert subjects(await provider.search_page(parse_query(""), 10)) == {"before"}  # still served
    assert [c.kind for c in (await provider.list_changes(None, 10)).changes] == ["added"]
    caught_up = anyio.Event()

    async def changed() -> None:
        caught_up.set()

    async with anyio.create_task_group() as group:
        group.start_soon(provider.keep_index, changed)
        db.execute("PRAGMA max_page_count = 1000000")  # space returns
        with anyio.fail_after(10):
            await caught_up.wait()
        group.cancel_scope.cancel()
    assert provider.index_trouble is None
    assert [c.message_id for c in (await provider.list_changes(None, 10)).changes][-1] == late
    await provider.aclose()


async def test_the_first_indexing_waits_out_a_full_disk_and_finishes_when_space_returns(
    tmp_path: Path,
) -> None:
    for i in range(30):
        deliver(tmp_path / "Mail", plain_message(subject=f"old {i}", body=BIG))
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    provider.retry_seconds = 0.05
    await provider.connect()
    db = provider._store.journal._db  # type: ignore[union-attr]
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")  # full
    said, tell = anyio.Event(), provider._troubled

    def troubled(exc: IndexStorageError) -> None:  # the first indexing met the full disk
        tell(exc)
        said.set()

    async def changed() -> None:
        pass

    async def space_returns_once_said() -> None:
        await said.wait()
        db.execute("PRAGMA max_page_count = 1000000")

    provider._troubled = troubled  # type: ignore[method-assign]
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(space_returns_once_said)
            await provider.index(changed)
    assert provider.indexing is None
    assert len((await provider.list_changes(None, 100)).changes) == 30  # each message once
    await provider.aclose()


async def test_a_lock_held_past_the_busy_timeout_is_named_and_the_change_goes_through_once_released(
    tmp_path: Path,
) -> None:
    deliver(tmp_path / "Mail", plain_message(subject="locked"))
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    settings = GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "state", allow_write=True)
    async with Client(build_server(settings, provider)) as client:
        provider._store.journal._db.execute("PRAGMA busy_timeout = 100")  # type: ignore[union-attr]
        found = await client.call_tool("search_messages", {"query": "subject:locked"})
        [message] = found.structured_content["messages"]
        other = sqlite3.connect(provider.index_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(
            ToolError, match=f"^database is locked: another process kept {provider.index_path}"
        ):
            await client.call_tool("mark_read", {"id": message["id"]})
        read = await client.call_tool("get_message", {"id": message["id"]})  # reads go on meanwhile
        assert read.structured_content["subject"] == "locked"
        other.execute("ROLLBACK")
        other.close()
        marked = await client.call_tool("mark_read", {"id": message["id"]})
    assert marked.structured_content["result"] == ["INBOX"]


async def search(client: Client, query: str) -> dict[str, Any]:
    result = await client.call_tool("search_messages", {"query": query})
    assert result.structured_content is not None
    return result.structured_content


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


@pytest.mark.slow
async def test_a_full_tmpfs_under_the_index_over_stdio_keeps_reads_and_loses_no_change(
    tmp_path: Path,
) -> None:
    disk, mail = tmp_path / "disk", tmp_path / "Mail"
    disk.mkdir()
    deliver(mail, plain_message(subject="early bird"))
    with mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)):
        arguments = ["--maildir", str(mail), "--state-dir", str(disk)]
        transport = stdio_transport(MODULE, arguments)
        async with Client(transport) as client:
            [early] = (await search(client, "subject:early"))["messages"]
            filler = fill(disk)
            late = {deliver(mail, plain_message(subject=f"late {i}", body=BIG)) for i in range(4)}
            answer = await search(client, "")
            assert {m["subject"] for m in answer["messages"]} == {"early bird"}
            assert answer["index_trouble"].startswith("disk full: the database ")
            assert f"free space in {disk} and try again" in answer["index_trouble"]
            read = await client.call_tool("get_message", {"id": early["id"]})
            assert read.structured_content["subject"] == "early bird"  # the mailbox is still read
            feed = (await client.call_tool("list_changes", {})).structured_content
            assert feed["index_trouble"] and len(feed["changes"]) == 1
            filler.unlink()
            answer = await search(client, "")
            assert answer["index_trouble"] is None
            feed = (await client.call_tool("list_changes", {"since": feed["cursor"]})).structured_content
        await transport.close()  # the server must be gone before its disk is unmounted
    assert {c["message_id"] for c in feed["changes"]} == late
    assert len(answer["messages"]) == 5


@pytest.mark.slow
async def test_a_state_disk_the_kernel_turns_read_only_under_the_server_is_said_and_reads_go_on(
    tmp_path: Path,
) -> None:
    disk, mail = tmp_path / "disk", tmp_path / "Mail"
    disk.mkdir()
    deliver(mail, plain_message(subject="early bird"))
    with ext4_failing_on_demand(tmp_path / "ext4.img", disk) as fail:
        transport = stdio_transport(MODULE, ["--maildir", str(mail), "--state-dir", str(disk)])
        async with Client(transport) as client:
            [early] = (await search(client, "subject:early"))["messages"]
            fail.write_text("a failing disk\n")  # the kernel remounts it read-only: no mount flag says so
            deliver(mail, plain_message(subject="late"))
            answer = await search(client, "")
            read = await client.call_tool("get_message", {"id": early["id"]})
            feed = (await client.call_tool("list_changes", {})).structured_content
        await transport.close()  # the server must be gone before its disk is unmounted
    assert answer["index_trouble"].startswith("cannot write the database ")
    assert f"make {disk} writable (it may be on a read-only mount)" in answer["index_trouble"]
    assert [m["subject"] for m in answer["messages"]] == ["early bird"]
    assert read.structured_content["subject"] == "early bird"
    assert feed["index_trouble"] == answer["index_trouble"] and len(feed["changes"]) == 1


def start(state_dir: Path, maildir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run the server to its end with stdin closed: an early exit is what these tests look at."""
    return subprocess.run(
        [sys.executable, "-m", MODULE, "--maildir", str(maildir), "--state-dir", str(state_dir), *flags],
        env=child_env(),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("pepper-gmail: ")]
    return line


@pytest.mark.slow
def test_a_read_only_state_directory_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    state, view, mail = tmp_path / "state", tmp_path / "view", tmp_path / "Mail"
    deliver(mail, plain_message())
    state.mkdir(), view.mkdir()
    with mounted("--bind", "-o", "ro", str(state), str(view)):
        line = failure(start(view, mail))
    assert f"the data directory {view} is read-only" in line
    assert "--state-dir or PEPPER_GMAIL_STATE_DIR" in line


@pytest.mark.slow
def test_a_corrupt_index_is_one_line_and_exit_code_2_with_a_traceback_only_in_debug(tmp_path: Path) -> None:
    mail, state = tmp_path / "Mail", tmp_path / "state"
    deliver(mail, plain_message())
    index = MaildirProvider(mail, state).index_path
    state.mkdir()
    index.write_bytes(b"these are not the bytes of a SQLite database " * 100)
    line = failure(start(state, mail))
    assert f"the database {index} is corrupt or not a SQLite database" in line
    assert "move it aside" in line
    debug = start(state, mail, "--log-level", "DEBUG")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


@pytest.mark.slow
async def test_mail_sent_by_smtp_is_not_reported_failed_when_its_copy_cannot_be_filed(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandlerBase

    from mcp_servers.gmail.providers import make_provider
    from tests.support.processes import free_port

    received: list[bytes] = []

    class Sink(MessageHandlerBase):
        def handle_message(self, message) -> None:  # type: ignore[override]
            received.append(message.as_bytes())

    port, disk = free_port(), tmp_path / "disk"
    disk.mkdir()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)):
            deliver(disk / "Mail", plain_message(subject="hello"))
            settings = GmailSettings(maildir=disk / "Mail", state_dir=tmp_path / "state", allow_send=True,
                                     smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                                     from_address="ada@example.org")  # fmt: skip
            async with Client(build_server(settings, make_provider(settings))) as client:
                fill(disk)  # the mailbox's disk is full: Sent cannot take the copy
                message = {"to": ["bob@example.org"], "subject": "Once", "body": BIG}
                sent = (await client.call_tool("send_message", {"message": message})).structured_content
    finally:
        controller.stop()
    assert sent["delivered"] is True and sent["id"] == ""  # sent once, and not to be sent again
    assert len(received) == 1
