"""ServerConnection keeps one session per server and heals it when the server dies."""

from __future__ import annotations

import os
import signal
import sys

import anyio
import pytest

from orchestrator.mcp_clients import (
    ConnectionState,
    ServerConnection,
    ServerSpec,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)
from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.anyio

PEER = ServerSpec(
    name="peer",
    command=[sys.executable, "-m", "tests.support.peer_server"],
    env={"PYTHONPATH": str(REPO_ROOT)},
)


async def test_connection_reuses_one_server_process_for_many_calls() -> None:
    connection = ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        pids = {(await connection.call_tool("pid", {})).text for _ in range(5)}
        echoed = await connection.call_tool("echo", {"text": "hello"})
        task_group.cancel_scope.cancel()
    assert len(pids) == 1
    assert echoed.text == "hello"


async def test_connection_reports_tool_errors_and_timeouts_distinctly() -> None:
    connection = ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        with pytest.raises(ToolCallFailed, match="peer.refuse: not today"):
            await connection.call_tool("refuse", {"reason": "not today"})
        with pytest.raises(ToolCallTimeout, match="peer.nap did not answer within 0.3 s"):
            await connection.call_tool("nap", {"seconds": 5}, deadline=0.3)
        assert (await connection.call_tool("echo", {"text": "still fine"})).text == "still fine"
        task_group.cancel_scope.cancel()


async def test_only_a_trusted_connection_skips_checking_results_against_their_schema() -> None:
    trusted, checked = ServerConnection(PEER, trust_results=True), ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(trusted.run)
        await task_group.start(checked.run)
        assert (await trusted.call_tool("mislabelled", {})).structured == {"n": "not a number"}
        with pytest.raises(
            ServerUnavailable, match="Invalid structured content returned by tool mislabelled"
        ):
            await checked.call_tool("mislabelled", {})
        task_group.cancel_scope.cancel()


async def test_connection_fails_call_in_flight_when_server_is_killed_then_reconnects() -> None:
    connection = ServerConnection(PEER, connect_timeout=20)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        first_pid = int((await connection.call_tool("pid", {})).text)

        async def kill_soon() -> None:
            await anyio.sleep(0.3)
            os.kill(first_pid, signal.SIGKILL)

        task_group.start_soon(kill_soon)
        with pytest.raises(ServerUnavailable, match="peer failed during nap"):
            await connection.call_tool("nap", {"seconds": 30}, deadline=20)
        second_pid = int((await connection.call_tool("pid", {})).text)
        assert second_pid != first_pid
        assert connection.state is ConnectionState.CONNECTED
        assert connection.reconnects >= 1
        task_group.cancel_scope.cancel()


async def test_connection_to_a_missing_server_says_unavailable_without_blocking_startup() -> None:
    spec = ServerSpec(name="ghost", command=[sys.executable, "-c", "raise SystemExit(3)"])
    connection = ServerConnection(spec, connect_timeout=2)
    async with anyio.create_task_group() as task_group:
        with anyio.fail_after(15):
            await task_group.start(connection.run)
        assert connection.state in (ConnectionState.DOWN, ConnectionState.CONNECTING)
        with pytest.raises(ServerUnavailable, match="ghost is not connected"):
            await connection.call_tool("echo", {"text": "x"})
        task_group.cancel_scope.cancel()


async def test_watch_wakes_on_subscribe_on_each_update_and_again_after_a_reconnect() -> None:
    connection = ServerConnection(PEER)
    wakes: list[int] = []
    woken = anyio.Event()

    def wake() -> None:
        nonlocal woken
        wakes.append(1)
        woken.set()

    async def next_wake() -> None:
        nonlocal woken
        with anyio.fail_after(20):
            await woken.wait()
        woken = anyio.Event()

    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        task_group.start_soon(connection.watch, "peer://counter", wake)
        await next_wake()  # subscribed: look once
        await connection.call_tool("bump", {})
        await next_wake()
        os.kill(int((await connection.call_tool("pid", {})).text), signal.SIGKILL)
        await next_wake()  # re-subscribed on the new session
        await connection.call_tool("bump", {})
        await next_wake()
        task_group.cancel_scope.cancel()
    assert len(wakes) == 4
