"""A data directory that turns read-only while the SQLite servers run. The kernel refuses to remount
a directory read-only while a process has a file open for writing in it (EBUSY: checked here), so
under a running server it happens only when the filesystem itself fails and the kernel turns it
read-only (ext4 `errors=remount-ro`, as after a disk error; no mount flag shows it). Then each
server says so in the shared words (`mcp_servers.common.sqlite_errors`: "cannot write the database
PATH ...: make DIR writable ..."), keeps answering reads, and loses nothing it acknowledged.
(The calendar's folder, which no file holds open, is remounted read-only and back under a running
server in tests/mcp_servers/calendar/test_storage_errors.py; the gmail server's state disk in
tests/mcp_servers/gmail/test_storage_errors.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from tests.support.mounts import ext4_failing_on_demand
from tests.support.processes import stdio_transport

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def notify_write(client: Client, title: str) -> None:
    await client.call_tool("send_notification", {"title": title, "body": "b", "priority": "high"})


async def notify_read(client: Client) -> set[str]:
    listed = await client.call_tool("list_notifications", {"limit": 100})
    return {n["title"] for n in listed.structured_content["notifications"]}


async def context_write(client: Client, title: str) -> None:
    await client.call_tool("store", {"namespace": "notes", "id": title, "text": title})


async def context_read(client: Client) -> set[str]:
    listed = await client.call_tool("query", {"limit": 100})
    return {item["id"] for item in listed.structured_content["items"]}


SERVERS: dict[str, tuple[str, str, dict[str, str], Any, Any]] = {
    "notify": (
        "mcp_servers.notify",
        "notify.sqlite3",
        {"PEPPER_NOTIFY_DESKTOP": "off"},
        notify_write,
        notify_read,
    ),
    "context": (
        "mcp_servers.context_store",
        "context.sqlite3",
        {"PEPPER_CONTEXT_EMBEDDER": "none"},
        context_write,
        context_read,
    ),
}


@pytest.mark.parametrize("name", sorted(SERVERS))
async def test_a_data_disk_turned_read_only_under_a_running_server_is_said_and_reads_go_on(
    name: str, tmp_path: Path
) -> None:
    module, file, env, write, read = SERVERS[name]
    disk = tmp_path / "disk"
    disk.mkdir()
    with ext4_failing_on_demand(tmp_path / "ext4.img", disk) as fail:
        transport = stdio_transport(module, ["--db", str(disk / file)], env)
        async with Client(transport) as client:
            await write(client, "acknowledged")
            refused = await anyio.run_process(["mount", "-o", "remount,ro", str(disk)], check=False)
            assert refused.returncode != 0 and b"busy" in refused.stderr  # the kernel will not, while open
            await write(client, "still writable")
            fail.write_text("a failing disk\n")
            with pytest.raises(
                ToolError, match=rf"cannot write the database {disk / file} .*: make {disk} writable"
            ):
                await write(client, "refused")
            assert await read(client) == {"acknowledged", "still writable"}
        await transport.close()  # the server must be gone before its disk is unmounted
