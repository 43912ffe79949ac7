"""Install, remove and inspect Pepper's service through systemctl (Linux) or launchctl (macOS).

Each manager writes its file first and then asks the service manager to load it. Where there is no
user service manager to ask (a container, an SSH session without a user bus), the file stays written
and the error says what to run once there is one. `logs` reads the rotating log file the service
writes, which exists on both systems.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from orchestrator.service.units import (
    LAUNCHD_LABEL,
    SYSTEMD_UNIT_NAME,
    ServicePlan,
    render_launchd_plist,
    render_systemd_unit,
)

__all__ = ["LaunchdManager", "ServiceError", "ServiceManager", "SystemdManager", "service_manager", "tail"]

COMMAND_TIMEOUT_SECONDS = 30
MAX_LOG_LINES = 10_000


class ServiceError(Exception):
    """The service could not be installed, removed or asked; the message says what to do."""


@dataclass
class ServiceManager:
    """The parts both systems share: where the unit lives and how to read the service's log."""

    unit_path: Path
    plan: ServicePlan

    def logs(self, lines: int = 50) -> str:
        if not 1 <= lines <= MAX_LOG_LINES:
            raise ServiceError(f"--lines must be between 1 and {MAX_LOG_LINES}, not {lines}")
        if not self.plan.log_file.exists():
            raise ServiceError(f"no log yet at {self.plan.log_file}: has the service run? (`service status`)")
        return tail(self.plan.log_file, lines)

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        if shutil.which(command[0]) is None:
            raise ServiceError(f"{command[0]} is not on PATH: {self._manual_hint()}")
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(
                f"`{' '.join(command)}` did not answer in {COMMAND_TIMEOUT_SECONDS} s"
            ) from exc

    def _checked(self, *command: str) -> str:
        result = self._run(*command)
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no message"]
            raise ServiceError(f"`{' '.join(command)}` failed: {reason[0]}. {self._manual_hint()}")
        return result.stdout

    def _manual_hint(self) -> str:
        return f"the service file is at {self.unit_path}"


class SystemdManager(ServiceManager):
    """A systemd user unit: `systemctl --user enable --now pepper.service`."""

    def install(self) -> str:
        self.unit_path.parent.mkdir(parents=True, exist_ok=True)
        self.unit_path.write_text(render_systemd_unit(self.plan, systemd_version()), encoding="utf-8")
        self._checked("systemctl", "--user", "daemon-reload")
        self._checked("systemctl", "--user", "enable", "--now", SYSTEMD_UNIT_NAME)
        return (
            f"Pepper runs as a service now and starts at login ({self.unit_path}); logs: {self.plan.log_file}"
        )

    def uninstall(self) -> str:
        if not self.unit_path.exists():
            return f"no Pepper service is installed ({self.unit_path} does not exist)"
        self._checked("systemctl", "--user", "disable", "--now", SYSTEMD_UNIT_NAME)
        self.unit_path.unlink()
        self._checked("systemctl", "--user", "daemon-reload")
        return f"the Pepper service is stopped and removed; its data and logs stay ({self.plan.log_file})"

    def status(self) -> str:
        if not self.unit_path.exists():
            return "not installed (`pepper-orchestrator service install` installs it)"
        shown = self._checked(
            "systemctl", "--user", "show", SYSTEMD_UNIT_NAME,
            "--property=ActiveState,SubState,NRestarts,Result,ExecMainStartTimestamp,UnitFileState",
        )  # fmt: skip
        values = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
        return (
            f"{values.get('ActiveState', '?')} ({values.get('SubState', '?')}), "
            f"{values.get('UnitFileState', '?')} at login, restarted {values.get('NRestarts', '0')} times, "
            f"last result {values.get('Result', '?')}, started {values.get('ExecMainStartTimestamp') or 'never'}"
            f"\nunit: {self.unit_path}\nlog: {self.plan.log_file}"
        )

    def _manual_hint(self) -> str:
        return (
            f"The unit is written to {self.unit_path}; where a user session exists, run "
            f"`systemctl --user daemon-reload && systemctl --user enable --now {SYSTEMD_UNIT_NAME}`"
        )


class LaunchdManager(ServiceManager):
    """A launchd agent in ~/Library/LaunchAgents, loaded into the user's GUI domain."""

    def install(self) -> str:
        self.unit_path.parent.mkdir(parents=True, exist_ok=True)
        self.unit_path.write_bytes(render_launchd_plist(self.plan))
        self._run("launchctl", "bootout", f"{_domain()}/{LAUNCHD_LABEL}")  # an older copy, if loaded
        self._checked("launchctl", "bootstrap", _domain(), str(self.unit_path))
        return (
            f"Pepper runs as a service now and starts at login ({self.unit_path}); logs: {self.plan.log_file}"
        )

    def uninstall(self) -> str:
        if not self.unit_path.exists():
            return f"no Pepper service is installed ({self.unit_path} does not exist)"
        self._run("launchctl", "bootout", f"{_domain()}/{LAUNCHD_LABEL}")
        self.unit_path.unlink()
        return f"the Pepper service is stopped and removed; its data and logs stay ({self.plan.log_file})"

    def status(self) -> str:
        if not self.unit_path.exists():
            return "not installed (`pepper-orchestrator service install` installs it)"
        printed = self._run("launchctl", "print", f"{_domain()}/{LAUNCHD_LABEL}")
        if printed.returncode != 0:
            return f"installed but not loaded\nagent: {self.unit_path}\nlog: {self.plan.log_file}"
        state = re.search(r"^\s*state = (.+)$", printed.stdout, re.MULTILINE)
        runs = re.search(r"^\s*runs = (\d+)$", printed.stdout, re.MULTILINE)
        return (
            f"{state.group(1) if state else '?'}, started {runs.group(1) if runs else '?'} times"
            f"\nagent: {self.unit_path}\nlog: {self.plan.log_file}"
        )


def service_manager(
    plan: ServicePlan, platform: str = sys.platform, home: Path | None = None
) -> ServiceManager:
    """The manager for this system: systemd on Linux, launchd on macOS."""
    home = home or Path.home()
    if platform == "darwin":
        return LaunchdManager(home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist", plan)
    if platform.startswith("linux"):
        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return SystemdManager(config_home / "systemd" / "user" / SYSTEMD_UNIT_NAME, plan)
    raise ServiceError(f"no service support on {platform}: run `pepper-orchestrator run` from a terminal")


def systemd_version() -> int | None:
    """The local systemd's major version, or None when there is no systemctl."""
    if shutil.which("systemctl") is None:
        return None
    try:
        result = subprocess.run(
            ["systemctl", "--version"], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.match(r"systemd (\d+)", result.stdout)
    return int(found.group(1)) if found else None


def tail(path: Path, lines: int) -> str:
    """The last `lines` lines of a text file, read as a stream (logs can be large)."""
    with path.open(encoding="utf-8", errors="replace") as stream:
        return "".join(deque(stream, maxlen=lines)).rstrip("\n")


def _domain() -> str:
    return f"gui/{os.getuid()}"
