"""Supervision with real processes: `run --demo` (rules mode, no embedder) keeps running while each of
its servers is SIGKILLed once during the ingest; it shows the server down within a second, respawns
it, and ends with exactly the mail, signals and notifications of a clean run of the same data.
A SIGKILLed orchestrator leaves no server behind. The full matrix is bench/kill_matrix.py."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.pepper_run import Outcome, PepperRun, alive, demo_copy, read_outcome, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo mailbox and calendars, generated once for every run of the module."""
    base = tmp_path_factory.mktemp("demo")
    demo_copy(base / "template", base / "first")
    return base / "template"


@pytest.fixture(scope="module")
def clean_run(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outcome]:
    """The demo and what a run without kills makes of it."""
    base = tmp_path_factory.mktemp("clean")
    data = demo_copy(template, base / "data")
    run = PepperRun(data, base / "clean.log")
    run.start()
    try:
        run.settle()
    finally:
        run.stop()
    return template, read_outcome(data)


def busy(run: PepperRun) -> bool:
    """Signals have reached the scheduler: the ingest, the feeds and the notifications are running."""
    snapshot = run.state() or {}
    return bool(snapshot.get("status", {}).get("steps"))


@pytest.mark.timeout(360)
@pytest.mark.parametrize("server", ["context", "gmail", "calendar", "notify"])
def test_pepper_survives_a_server_killed_during_the_ingest_and_loses_nothing(
    server: str, clean_run: tuple[Path, Outcome], tmp_path: Path
) -> None:
    template, clean = clean_run
    data = demo_copy(template, tmp_path / "data")
    run = PepperRun(data, tmp_path / "pepper.log")
    run.start()
    try:
        wait_until(lambda: busy(run), 120, "Pepper never got busy", every=0.2)
        first = run.servers()[server]
        assert run.kill_server(server) < 1.0, "the dead server was not shown as down within 1 s"
        assert f"server {server}: down" in run.status_text()
        run.wait_connected(server, timeout=60)
        assert run.servers()[server] != first
        run.settle()
    finally:
        run.stop()
    assert read_outcome(data).compare(clean) == {"lost": 0, "duplicated": 0, "extra": 0}


@pytest.mark.timeout(240)
def test_no_server_outlives_a_sigkilled_orchestrator(template: Path, tmp_path: Path) -> None:
    run = PepperRun(demo_copy(template, tmp_path / "data"), tmp_path / "pepper.log")
    run.start()
    try:
        wait_until(lambda: busy(run), 120, "Pepper never got busy", every=0.2)
        servers = run.servers()
        assert len(servers) == 4, servers
        os.kill(run.pid, signal.SIGKILL)
        run.process.wait()
        killed = time.monotonic()
        wait_until(lambda: not any(alive(pid) for pid in servers.values()), 1.0, f"servers left: {servers}")
        assert time.monotonic() - killed < 1.0
    finally:
        run.stop()
