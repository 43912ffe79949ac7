"""`pepper-orchestrator run` says what it started, serves the UI, and on Ctrl-C stops cleanly with
every server it spawned."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import PepperCli, child_env, free_port

pytestmark = pytest.mark.slow


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_run_prints_a_summary_serves_the_ui_and_stops_every_child_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    pepper = PepperCli(["--data-dir", str(tmp_path / "data"), "--port", str(port)], env)
    process, lines, summary = pepper.process, pepper.lines, pepper.running
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the UI never answered"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/pepper/api/state", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        servers = children_of(process.pid)
        assert len(servers) == 4, f"expected the four servers as children, found {servers}"
        # The UI serves while Pepper finishes starting; the summary follows once everything runs.
        assert summary.wait(60), "".join(lines)
        pepper.interrupt()
        pepper.reader.join(timeout=10)
        stderr = pepper.stderr
    finally:
        pepper.kill_if_running()
    assert process.returncode == 0, stderr
    assert (
        "Pepper is running." in stderr
        and "rules mode" in stderr
        and f"localhost:{port}/pepper/ui.html" in stderr
    )
    assert "Pepper stopped." in stderr
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in servers if alive(pid)], "a server outlived Pepper"
    assert "Traceback" not in stderr
