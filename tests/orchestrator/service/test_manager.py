"""Installing, inspecting and removing the service through a systemctl that records what it was asked.

Containers have no systemd user instance, so `systemctl` here is a small script on PATH that logs its
arguments and answers `show` like systemd does; a second one fails like systemctl without a user bus.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.service.manager import LaunchdManager, ServiceError, SystemdManager, service_manager
from orchestrator.service.units import ServicePlan

RECORDING_SYSTEMCTL = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *--version*) echo "systemd 252 (252.38-1~deb12u1)";;
  *show*) printf 'ActiveState=active\\nSubState=running\\nNRestarts=2\\nResult=success\\n'
          printf 'ExecMainStartTimestamp=Sat 2026-12-05 09:00:00 UTC\\nUnitFileState=enabled\\n';;
esac
"""
BUSLESS_SYSTEMCTL = """#!/bin/sh
case "$*" in *--version*) echo "systemd 252"; exit 0;; esac
echo "Failed to connect to bus: No medium found" >&2
exit 1
"""


def _fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(script.format(log=calls), encoding="utf-8")
    systemctl.chmod(systemctl.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return calls


def _manager(tmp_path: Path) -> SystemdManager:
    manager = service_manager(ServicePlan(log_file=tmp_path / "state" / "pepper.log"), platform="linux")
    assert isinstance(manager, SystemdManager)
    return manager


def test_install_writes_the_unit_and_enables_it_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_systemctl(tmp_path, monkeypatch, RECORDING_SYSTEMCTL)
    manager = _manager(tmp_path)

    said = manager.install()

    assert manager.unit_path == tmp_path / "config" / "systemd" / "user" / "pepper.service"
    assert "ExecStart=" in manager.unit_path.read_text(encoding="utf-8")
    assert calls.read_text().splitlines()[-2:] == [
        "--user daemon-reload",
        "--user enable --now pepper.service",
    ]
    assert "starts at login" in said


def test_status_reports_state_restarts_and_where_the_log_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_systemctl(tmp_path, monkeypatch, RECORDING_SYSTEMCTL)
    manager = _manager(tmp_path)
    assert manager.status().startswith("not installed")
    manager.install()

    status = manager.status()

    assert status.startswith("active (running), enabled at login, restarted 2 times")
    assert str(tmp_path / "state" / "pepper.log") in status


def test_uninstall_stops_and_removes_the_unit_and_keeps_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_systemctl(tmp_path, monkeypatch, RECORDING_SYSTEMCTL)
    manager = _manager(tmp_path)
    manager.install()

    manager.uninstall()

    assert not manager.unit_path.exists()
    assert "--user disable --now pepper.service" in calls.read_text().splitlines()
    assert manager.uninstall().startswith("no Pepper service is installed")


def test_install_without_a_user_bus_keeps_the_unit_and_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_systemctl(tmp_path, monkeypatch, BUSLESS_SYSTEMCTL)
    manager = _manager(tmp_path)

    with pytest.raises(ServiceError) as raised:
        manager.install()

    assert manager.unit_path.exists()
    assert "Failed to connect to bus" in str(raised.value)
    assert "systemctl --user enable --now pepper.service" in str(raised.value)


def test_logs_returns_the_last_lines_and_refuses_silly_counts(tmp_path: Path) -> None:
    manager = _manager(tmp_path)
    with pytest.raises(ServiceError, match="no log yet"):
        manager.logs()
    manager.plan.log_file.parent.mkdir(parents=True)
    manager.plan.log_file.write_text("".join(f"line {n}\n" for n in range(100)), encoding="utf-8")

    assert manager.logs(3) == "line 97\nline 98\nline 99"
    for silly in (0, -1, 10_001):
        with pytest.raises(ServiceError, match="between 1 and 10000"):
            manager.logs(silly)


def test_macos_gets_a_launch_agent_and_other_systems_a_clear_refusal(tmp_path: Path) -> None:
    plan = ServicePlan(log_file=tmp_path / "pepper.log")

    agent = service_manager(plan, platform="darwin", home=tmp_path)

    assert isinstance(agent, LaunchdManager)
    assert agent.unit_path == tmp_path / "Library" / "LaunchAgents" / "org.pepper.orchestrator.plist"
    with pytest.raises(ServiceError, match="no service support on win32"):
        service_manager(plan, platform="win32")
