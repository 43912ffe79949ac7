"""The service files: a systemd unit that systemd itself accepts, a launchd plist that parses."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.service.manager import systemd_version
from orchestrator.service.units import (
    LAUNCHD_LABEL,
    ServicePlan,
    render_launchd_plist,
    render_systemd_unit,
    systemd_quote,
)


def _plan(tmp_path: Path, folder: str = "state") -> ServicePlan:
    return ServicePlan(
        log_file=tmp_path / folder / "pepper.log",
        config=tmp_path / "pepper.toml",
        data_dir=tmp_path / "data",
        port=5077,
        environment_file=tmp_path / "environment",
    )


def _verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / "pepper.service"
    unit.write_text(unit_text, encoding="utf-8")
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs Debian's systemd package")
def test_systemd_unit_for_the_local_systemd_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    text = render_systemd_unit(_plan(tmp_path), systemd_version=systemd_version())

    verified = _verify(text, tmp_path)

    assert verified.returncode == 0, verified.stderr
    assert "pepper.service" not in verified.stderr, verified.stderr  # no warning about our unit either


@pytest.mark.parametrize(("version", "backoff"), [(None, False), (252, False), (254, True), (257, True)])
def test_systemd_unit_grows_the_restart_delay_only_where_systemd_can(
    tmp_path: Path, version: int | None, backoff: bool
) -> None:
    lines = render_systemd_unit(_plan(tmp_path), systemd_version=version).splitlines()

    assert ("RestartSteps=5" in lines) is backoff
    assert ("RestartMaxDelaySec=300" in lines) is backoff


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs Debian's systemd package")
def test_systemd_unit_with_spaces_and_percent_signs_in_paths_still_verifies(tmp_path: Path) -> None:
    plan = _plan(tmp_path, folder="my 100% state")

    text = render_systemd_unit(plan)

    assert "my 100%% state" in text
    assert _verify(text, tmp_path).returncode == 0


def test_systemd_unit_restarts_on_failure_only_and_stops_with_sigterm(tmp_path: Path) -> None:
    lines = render_systemd_unit(_plan(tmp_path)).splitlines()

    assert "Restart=on-failure" in lines
    assert "KillSignal=SIGTERM" in lines
    assert "WantedBy=default.target" in lines
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert "-m orchestrator.cli --config" in exec_start
    assert f"--log-file {tmp_path}/state/pepper.log" in exec_start
    assert exec_start.endswith("--port 5077")


def test_systemd_quote_escapes_expansions_and_quotes_spaces() -> None:
    assert systemd_quote("/plain/path") == "/plain/path"
    assert systemd_quote("/a b/c") == '"/a b/c"'
    assert systemd_quote("$HOME%i") == "$$HOME%%i"
    assert systemd_quote('say "hi"') == '"say \\"hi\\""'


def test_launchd_plist_parses_and_runs_the_same_command_at_login(tmp_path: Path) -> None:
    plan = _plan(tmp_path)

    agent = plistlib.loads(render_launchd_plist(plan))

    assert agent["Label"] == LAUNCHD_LABEL
    assert agent["ProgramArguments"] == plan.command
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}  # restarted after a crash, not after a clean stop
    assert agent["ThrottleInterval"] >= 10
    assert agent["StandardErrorPath"] == str(tmp_path / "state" / "launchd.log")
    assert not any("token" in argument.lower() for argument in agent["ProgramArguments"])
