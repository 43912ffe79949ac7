"""The service stops Pepper with SIGTERM (`KillSignal=SIGTERM` in the unit, launchd's default): a
real `pepper-orchestrator run` stops cleanly on it, exit status 0, with every server it started."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.orchestrator.test_cli_run import alive, children_of
from tests.support.pepper_run import wait_until
from tests.support.processes import PepperCli, child_env, free_port

pytestmark = pytest.mark.slow


def test_sigterm_stops_pepper_and_every_server_it_started_with_status_zero(tmp_path: Path) -> None:
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    pepper = PepperCli(["--demo", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())], env)
    try:
        assert pepper.running.wait(120), pepper.stderr
        servers = children_of(pepper.process.pid)
        pepper.process.send_signal(signal.SIGTERM)
        status = pepper.process.wait(timeout=60)
        pepper.reader.join(timeout=10)
        wait_until(lambda: not [pid for pid in servers if alive(pid)], 10, "every server to exit")
    finally:
        pepper.kill_if_running()

    assert len(servers) == 4, servers
    assert status == 0, pepper.stderr[-3000:]
    assert "Pepper stopped." in pepper.stderr and "Traceback" not in pepper.stderr
