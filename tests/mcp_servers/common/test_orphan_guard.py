"""A stdio server dies with its host: by the parent-death signal, or at once if the host is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from mcp_servers.common.orphan_guard import guarded_command
from tests.support.pepper_run import alive, wait_until
from tests.support.processes import REPO_ROOT, child_env

GUARDED = (
    "from mcp_servers.common.orphan_guard import die_with_parent; die_with_parent(); "
    "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
)
# The host: starts the guarded child in a session of its own (as the MCP SDK does) and waits.
HOST = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1]], start_new_session=True).wait()"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_guarded_child_dies_within_a_second_of_its_host_being_sigkilled() -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, GUARDED],
        env=child_env(),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(host.stdout.readline())
        host.kill()
        host.wait()
        killed = time.monotonic()
        wait_until(lambda: not alive(child), 1.0, f"the server {child} outlived its host")
        assert time.monotonic() - killed < 1.0
    finally:
        host.kill()
        host.stdout.close()


def test_guard_stops_a_server_whose_host_died_before_it_started() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    finished = subprocess.run(
        [sys.executable, "-c", GUARDED],
        env=child_env({"PEPPER_PARENT_PID": str(gone.pid)}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == -signal.SIGTERM and finished.stdout == ""


def test_guard_lets_a_server_started_through_a_wrapper_run() -> None:
    """The named host is alive but is not the direct parent (a shell or `uv run` in between)."""
    with subprocess.Popen(
        [sys.executable, "-c", GUARDED],
        env=child_env({"PEPPER_PARENT_PID": str(os.getppid())}),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert int(server.stdout.readline()) == server.pid
        server.terminate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_guarded_command_dies_with_its_host_before_it_has_set_anything_itself() -> None:
    """Spawned through `guarded_command`, a plain sleeper (no guard of its own) dies with its host."""
    sleeper = guarded_command(
        [sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(60)"]
    )
    host_code = "import subprocess, sys; subprocess.Popen(sys.argv[1:], start_new_session=True).wait()"
    host = subprocess.Popen(
        [sys.executable, "-c", host_code, *sleeper], env=child_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(host.stdout.readline())
        host.kill()
        host.wait()
        wait_until(lambda: not alive(child), 1.0, f"the sleeper {child} outlived its host")
    finally:
        host.kill()
        host.stdout.close()
