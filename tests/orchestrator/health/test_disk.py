"""The disk under Pepper's data in the health view, on a real (tiny) tmpfs that the test fills:
ok, then amber, then red with one alert, and one more when there is room again."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from orchestrator.config import OrchestratorSettings
from orchestrator.context_items import ContextItems
from orchestrator.health.checks import check_disk
from orchestrator.health.disk import DiskHealth
from orchestrator.health.sources import HealthBook
from orchestrator.mcp_clients import ServerConnection
from tests.support.mounts import mounted

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "notify")]
MiB = 1 << 20


async def test_a_filling_disk_turns_amber_then_red_alerts_once_and_recovers(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    notify = connections["notify"]

    async def announce(title: str, body: str, key: str) -> None:
        await notify.call_tool("send_notification", {"title": title, "body": body, "dedupe_key": key})

    with mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)):
        settings = OrchestratorSettings(data_dir=disk / "data")
        settings.data_dir.mkdir()
        (settings.data_dir / "context.sqlite3").write_bytes(b"\0" * MiB)
        book = HealthBook(ContextItems(connections["context"]))
        book.others.append(
            DiskHealth(functools.partial(check_disk, settings, fail_below=MiB, warn_below=2 * MiB))
        )
        states = [book.snapshot()[0]["state"]]
        (disk / "fill-1").write_bytes(b"\0" * (3 * MiB // 2))
        states.append(book.snapshot()[0]["state"])
        (disk / "fill-2").write_bytes(b"\0" * MiB)
        full = book.snapshot()[0]
        for _ in range(3):
            await book.check(announce)
        (disk / "fill-2").unlink()
        (disk / "fill-1").unlink()
        await book.check(announce)
        states.append(book.snapshot()[0]["state"])

    listed = (await notify.call_tool("list_notifications", {"limit": 10})).structured or {}
    titles = [n["title"] for n in listed["notifications"]]
    assert states == ["ok", "late", "ok"]
    assert full["state"] == "failing" and "Pepper's databases use 1.0 MiB" in full["reason"]
    assert full["fix"].startswith("free some space")
    assert titles == ["Pepper's disk has room again", "Pepper's disk is nearly full"]
