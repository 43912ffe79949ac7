"""The real `python -m mcp_servers.notify` process: stdio and HTTP, SIGKILL, and restarts."""

from __future__ import annotations

import os
import signal
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastmcp import Client

from tests.support.processes import http_server, stdio_transport

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MODULE = "mcp_servers.notify"
ENV = {"PEPPER_NOTIFY_DESKTOP": "off", "PEPPER_NOTIFY_LATE_AFTER_SECONDS": "0.2"}


def stdio_client(db: Path) -> Client:
    return Client(stdio_transport(MODULE, ["--db", str(db)], ENV))


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.structured_content is not None
    return result.structured_content


def kill_server_using(db: Path) -> None:
    """SIGKILL our child process that serves `db` (the stdio transport does not expose its pid)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if parent == os.getpid() and str(db).encode() in command:
            os.kill(int(entry.name), signal.SIGKILL)
            return
    raise AssertionError(f"no child process serves {db}")


def unfired_reminders(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM reminders WHERE fire_count = 0")]


async def test_stdio_smoke_lists_tools_and_sends(tmp_path: Path) -> None:
    async with stdio_client(tmp_path / "n.sqlite3") as client:
        names = {tool.name for tool in await client.list_tools()}
        sent = await call(client, "send_notification", title="hello over stdio")
        inbox = await call(client, "list_notifications")
    assert {"send_notification", "schedule_reminder", "daily_digest"} <= names
    assert inbox["notifications"][0]["id"] == sent["notification"]["id"]


async def test_notifications_and_reminders_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "n.sqlite3"
    client = stdio_client(db)
    async with client:
        sent = await call(client, "send_notification", title="survives", dedupe_key="k1")
        await call(client, "send_notification", title="survives", dedupe_key="k1")
        reminder = await call(client, "schedule_reminder", message="far away", **{"in": "30d"})
        kill_server_using(db)
    async with stdio_client(db) as client:
        inbox = await call(client, "list_notifications")
        reminders = await call(client, "list_reminders")
        again = await call(client, "send_notification", title="survives", dedupe_key="k1")
    assert [n["id"] for n in inbox["notifications"]] == [sent["notification"]["id"]]
    assert inbox["notifications"][0]["dedupe_count"] == 2
    assert again["deduplicated"] is True and again["notification"]["dedupe_count"] == 3
    assert [r["id"] for r in reminders["reminders"]] == [reminder["id"]]


async def test_reminder_due_while_killed_fires_once_late_on_restart(tmp_path: Path) -> None:
    db = tmp_path / "n.sqlite3"
    client = stdio_client(db)
    async with client:
        due = datetime.now(UTC) + timedelta(seconds=3)
        reminder = await call(client, "schedule_reminder", message="while down", at=due.isoformat())
        kill_server_using(db)
    assert unfired_reminders(db) == [reminder["id"]], "the server must die before the reminder is due"
    # The server is down; the reminder's wall-clock due time has to pass before it restarts.
    await anyio.sleep((due - datetime.now(UTC)).total_seconds() + 0.1)
    async with stdio_client(db) as client:
        first = (await call(client, "list_notifications"))["notifications"]
    async with stdio_client(db) as client:
        second = (await call(client, "list_notifications"))["notifications"]
        finished = (await call(client, "list_reminders", include_finished=True))["reminders"]
    assert [(n["reminder_id"], n["late"]) for n in first] == [(reminder["id"], True)]
    assert second == first
    assert [(r["status"], r["fire_count"]) for r in finished] == [("done", 1)]


async def test_http_smoke_requires_token_and_serves_tools(tmp_path: Path) -> None:
    env = {**ENV, "PEPPER_NOTIFY_TOKEN": "test-token"}
    with http_server(MODULE, ["--db", str(tmp_path / "n.sqlite3")], env) as url:
        async with httpx.AsyncClient() as http:
            refused = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        async with Client(url, auth="test-token") as client:
            sent = await call(client, "send_notification", title="hello over http", priority="high")
            inbox = (await client.read_resource("notify://inbox"))[0].text
    assert refused.status_code == 401
    assert sent["notification"]["id"] in inbox
