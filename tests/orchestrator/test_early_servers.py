"""Servers started before the orchestrator's imports: adopted by the first session, spawned anew on a
reconnect, and stopped when nobody took them."""

from __future__ import annotations

import os
import sys

import anyio
import pytest

from orchestrator.adopted_stdio import AdoptedStdioTransport
from orchestrator.early_servers import EarlyServers
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.anyio

PEER = ServerSpec(
    name="peer",
    command=[sys.executable, "-m", "tests.support.peer_server"],
    env={"PYTHONPATH": str(REPO_ROOT)},
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_the_first_session_adopts_the_early_process_and_stops_it_at_the_end() -> None:
    early = EarlyServers()
    early.start("peer", PEER.command, PEER.env)
    process = early.take("peer", PEER.command)
    assert process is not None and early.take("peer", PEER.command) is None  # handed over once
    connection = ServerConnection(PEER, first_transport=AdoptedStdioTransport(process))
    async with anyio.create_task_group() as tasks:
        await tasks.start(connection.run)
        pids = {int((await connection.call_tool("pid", {})).text) for _ in range(3)}
        assert (await connection.call_tool("echo", {"text": "é" * 100_000})).text == "é" * 100_000
        tasks.cancel_scope.cancel()
    assert pids == {process.pid}
    # The session's end closes the server's stdin, then stops it (TimeoutExpired if it outlives that).
    await anyio.to_thread.run_sync(process.wait, 10)


async def test_a_dead_early_process_is_replaced_by_a_spawned_one() -> None:
    early = EarlyServers()
    early.start("peer", PEER.command, PEER.env)
    process = early.take("peer", PEER.command)
    assert process is not None
    process.kill()
    process.wait()
    connection = ServerConnection(PEER, first_transport=AdoptedStdioTransport(process), connect_timeout=20)
    async with anyio.create_task_group() as tasks:
        await tasks.start(connection.run)
        with anyio.fail_after(30):
            pid = int((await connection.call_tool("pid", {})).text)
        tasks.cancel_scope.cancel()
    assert pid != process.pid and connection.reconnects >= 1


def test_early_servers_hand_over_only_a_matching_live_process_and_stop_the_rest() -> None:
    early = EarlyServers()
    early.start("peer", PEER.command, PEER.env)
    early.start("other", PEER.command, PEER.env)
    assert early.take("peer", [*PEER.command, "--different"]) is None  # configured otherwise: not ours
    pids = [process.pid for _, process in early._processes.values()]
    early.close()
    assert not [pid for pid in pids if alive(pid)]
    assert early.take("peer", PEER.command) is None
