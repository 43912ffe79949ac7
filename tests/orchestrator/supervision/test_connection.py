"""A killed server is shown down at once, respawned, and waited out by the loops (real processes)."""

from __future__ import annotations

import os
import signal
import sys

import anyio
import pytest

from orchestrator.mcp_clients import ConnectionState, ServerConnection, ServerSpec, ServerUnavailable
from orchestrator.supervision.retry import PatientConnection, find_unavailable, supervised, until_available
from orchestrator.supervision.status import server_status, wait_for_change
from tests.support.processes import REPO_ROOT, free_port, http_server

pytestmark = pytest.mark.anyio

PEER = ServerSpec(
    name="peer",
    command=[sys.executable, "-m", "tests.support.peer_server"],
    env={"PYTHONPATH": str(REPO_ROOT)},
)


async def _pid(connection: ServerConnection | PatientConnection) -> int:
    return int((await connection.call_tool("pid", {})).text)


async def test_connection_shows_a_server_killed_between_calls_as_down_within_a_second_then_respawns_it() -> (
    None
):
    connection = ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        first = await _pid(connection)
        os.kill(first, signal.SIGKILL)
        with anyio.fail_after(1):
            while connection.state is not ConnectionState.DOWN:
                await connection.wait_changed()
        assert server_status({"peer": connection})[0]["state"] == "down"
        with anyio.fail_after(20):
            await connection.wait_available()
        assert await _pid(connection) != first
        assert connection.state is ConnectionState.CONNECTED and connection.reconnects == 1
        task_group.cancel_scope.cancel()


async def test_status_change_wakes_a_waiter_before_its_patience_runs_out() -> None:
    connection = ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        os.kill(await _pid(connection), signal.SIGKILL)
        with anyio.fail_after(1):
            await wait_for_change([connection], patience=30)
        task_group.cancel_scope.cancel()


async def test_patient_call_waits_out_a_killed_server_and_answers_from_the_new_process() -> None:
    connection = ServerConnection(PEER)
    patient = PatientConnection(connection)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        first = await _pid(patient)

        async def kill_soon() -> None:
            await anyio.sleep(0.3)
            os.kill(first, signal.SIGKILL)

        task_group.start_soon(kill_soon)
        with anyio.fail_after(30):
            answer = await patient.call_tool("nap", {"seconds": 1.5})  # broken mid-call, made again
        assert answer.text == "rested"
        assert await _pid(patient) != first
        task_group.cancel_scope.cancel()


async def test_until_available_does_not_wait_for_a_server_that_is_not_configured() -> None:
    async def unconfigured() -> None:
        raise ServerUnavailable("the notify server is not configured")

    with pytest.raises(ServerUnavailable, match="not configured"):
        await until_available(unconfigured, "notify")


async def test_supervised_loop_restarts_after_its_server_comes_back_and_other_errors_propagate() -> None:
    connection = ServerConnection(PEER)
    runs: list[int] = []

    async def loop() -> None:  # a loop that finds its server gone the first time
        runs.append(await _pid(connection))
        if len(runs) == 1:
            os.kill(runs[0], signal.SIGKILL)
            raise connection.unavailable("peer went away")

    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        with anyio.fail_after(30):
            await supervised("test loop", loop)
        task_group.cancel_scope.cancel()
    assert len(runs) == 2 and runs[0] != runs[1]

    async def broken() -> None:
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        await supervised("broken loop", broken)


async def test_supervised_finds_an_outage_inside_a_task_group() -> None:
    connection = ServerConnection(PEER)
    attempts = 0

    async def loop() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            async with anyio.create_task_group() as inner:
                inner.start_soon(anyio.sleep_forever)
                raise connection.unavailable("peer went away")

    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        with anyio.fail_after(10):
            await supervised("grouped loop", loop)
        task_group.cancel_scope.cancel()
    assert attempts == 2


async def test_http_connection_shows_a_stopped_server_down_and_reconnects_when_it_is_back(tmp_path) -> None:
    port = free_port()
    arguments = ["--db", str(tmp_path / "notify.db")]
    spec = ServerSpec(name="notify", url=f"http://127.0.0.1:{port}/mcp")
    connection = ServerConnection(spec, health_interval=0.2, max_backoff=1)
    async with anyio.create_task_group() as task_group:
        with http_server("mcp_servers.notify", arguments, port=port):
            await task_group.start(connection.run)
            assert connection.state is ConnectionState.CONNECTED
        with anyio.fail_after(20):  # two missed pings, on a loaded machine
            while connection.state is not ConnectionState.DOWN:
                await connection.wait_changed()
        with http_server("mcp_servers.notify", arguments, port=port):
            with anyio.fail_after(60):
                await connection.wait_available()
            listed = await connection.call_tool("list_notifications", {})
        task_group.cancel_scope.cancel()
    assert listed.structured["notifications"] == []


def test_an_outage_translated_for_the_user_still_counts_as_an_outage() -> None:
    """The conversation turns ServerUnavailable into ActionError (words for the user); a background
    loop built on it, inside a task group, must still wait for the server, not take Pepper down."""
    gone = ServerUnavailable("context failed during read_events: Connection closed")

    class ActionError(RuntimeError):
        pass

    try:
        raise ActionError("the context server did not answer; try again in a moment") from gone
    except ActionError as translated:
        worded = translated
    nested = ExceptionGroup("task group", [ExceptionGroup("inner", [worded])])

    assert find_unavailable(worded) is gone
    assert find_unavailable(nested) is gone
    assert find_unavailable(ExceptionGroup("mixed", [worded, ValueError("a bug")])) is None
    assert find_unavailable(ActionError("no server involved")) is None
