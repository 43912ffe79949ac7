"""At-least-once delivery: a scheduler call whose server is unavailable, or whose notify server could
not store it for now (a full disk), stays journaled and runs again under its id once the server (or
the space) is back; the notify server's dedupe key makes the repeat harmless."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from orchestrator.scheduler.engine import MemoryJournal, PendingCall, RetryLater, ToolCallEngine
from orchestrator.scheduler.events import SchedulerEvent
from orchestrator.scheduler_tools import SchedulerToolRunner
from tests.support.mounts import mounted
from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.anyio


class Results:
    def __init__(self) -> None:
        self.events: list[SchedulerEvent] = []
        self.arrived = anyio.Event()

    async def deliver(self, event: SchedulerEvent) -> None:
        self.events.append(event)
        self.arrived.set()


async def test_engine_keeps_a_call_journaled_while_its_server_is_away_and_delivers_it_once_back() -> None:
    back, tried, attempts = anyio.Event(), anyio.Event(), []

    async def runner(call: PendingCall) -> str:
        attempts.append(call.id)
        tried.set()
        if not back.is_set():
            raise RetryLater("notify is restarting", back.wait)
        return "sent"

    journal, results = MemoryJournal(), Results()
    engine = ToolCallEngine(runner, results.deliver, journal)
    async with anyio.create_task_group() as task_group:
        engine.bind(task_group)
        await engine.submit(PendingCall(id="notify-s1", name="notify", arguments={"title": "VIP invite"}))
        with anyio.fail_after(5):
            await tried.wait()
        assert list(journal.calls) == ["notify-s1"] and results.events == []
        back.set()
        with anyio.fail_after(5):
            await results.arrived.wait()
    assert attempts == ["notify-s1", "notify-s1"]
    assert [(e.attributes["id"], e.attributes["ok"], e.content) for e in results.events] == [
        ("notify-s1", True, "sent")
    ]
    assert journal.calls == {}


async def test_a_notification_whose_server_was_down_is_sent_once_it_is_up(tmp_path: Path) -> None:
    """The notify server cannot start until `ready` exists; the call waits, then goes through once."""
    ready, db = tmp_path / "ready", tmp_path / "notify.db"
    starter = (
        "import os, sys; os.path.exists(sys.argv[1]) or sys.exit(3); "
        "os.execv(sys.executable, [sys.executable, '-m', 'mcp_servers.notify', '--db', sys.argv[2]])"
    )
    env = {"PYTHONPATH": str(REPO_ROOT)}
    notify = ServerConnection(
        ServerSpec(name="notify", command=[sys.executable, "-c", starter, str(ready), str(db)], env=env),
        connect_timeout=0.5,
        init_timeout=30,
        max_backoff=1,
    )
    deferred = anyio.Event()
    tools = SchedulerToolRunner(ContextItems(notify), notify, reply=_no_reply)

    async def runner(call: PendingCall) -> str:
        try:
            return await tools(call)
        except RetryLater:
            deferred.set()
            raise

    journal, results = MemoryJournal(), Results()
    engine = ToolCallEngine(runner, results.deliver, journal)
    call = PendingCall(
        id="notify-vip", name="notify", arguments={"title": "Invitation from Dana", "priority": "high"}
    )
    async with anyio.create_task_group() as task_group:
        await task_group.start(notify.run)
        engine.bind(task_group)
        await engine.submit(call)
        with anyio.fail_after(10):
            await deferred.wait()
        assert list(journal.calls) == ["notify-vip"] and results.events == []
        ready.touch()
        with anyio.fail_after(60):
            await results.arrived.wait()
        await tools(call)  # the same call again, as after a restart: deduplicated by its key
        listed = await notify.call_tool("list_notifications", {})
        task_group.cancel_scope.cancel()
    assert results.events[0].attributes["ok"] is True and journal.calls == {}
    notifications = listed.structured["notifications"]
    assert [(n["title"], n["dedupe_key"]) for n in notifications] == [("Invitation from Dana", "notify-vip")]


def fill(path: Path) -> None:
    """Write zeros to `path` until its disk is full."""
    with path.open("wb", buffering=0) as sink:
        try:
            while True:
                sink.write(b"\0" * 65536)
        except OSError:
            pass


async def _no_reply(text: str) -> None:
    raise AssertionError(f"unexpected reply {text!r}")


@pytest.mark.slow
async def test_a_notification_the_notify_server_could_not_store_on_a_full_disk_goes_out_once_space_returns(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)):
        command = [sys.executable, "-m", "mcp_servers.notify", "--db", str(disk / "notify.sqlite3")]
        env = {"PYTHONPATH": str(REPO_ROOT), "PEPPER_NOTIFY_DESKTOP": "off"}
        notify = ServerConnection(ServerSpec(name="notify", command=command, env=env), init_timeout=60)
        tools = SchedulerToolRunner(ContextItems(notify), notify, reply=_no_reply, storage_retry_seconds=0.2)
        deferred = anyio.Event()

        async def runner(call: PendingCall) -> str:
            try:
                return await tools(call)
            except RetryLater:
                deferred.set()
                raise

        journal, results = MemoryJournal(), Results()
        engine = ToolCallEngine(runner, results.deliver, journal)
        filler = disk / "filler"
        async with anyio.create_task_group() as task_group:
            await task_group.start(notify.run)
            engine.bind(task_group)
            fill(filler)
            body = "the agenda, in full " * 2000
            await engine.submit(
                PendingCall(id="notify-vip", name="notify", arguments={"title": "VIP", "body": body})
            )
            with anyio.fail_after(30):
                await deferred.wait()
            assert list(journal.calls) == ["notify-vip"] and results.events == []
            filler.unlink()
            with anyio.fail_after(30):
                await results.arrived.wait()
            listed = await notify.call_tool("list_notifications", {})
            task_group.cancel_scope.cancel()
        assert results.events[0].attributes["ok"] is True and journal.calls == {}
        assert [n["dedupe_key"] for n in listed.structured["notifications"]] == ["notify-vip"]
