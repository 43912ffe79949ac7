"""The checks `doctor` runs on the machine itself: config and secret permissions, disk, port, service.

Every check looks and reports; none changes anything. The checks that need a server or the model are
in `orchestrator.health.probes`.
"""

from __future__ import annotations

import errno
import shutil
import socket
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from orchestrator import remote
from orchestrator.config import OrchestratorSettings
from orchestrator.service import ServiceError, ServicePlan, default_log_file, service_manager

__all__ = [
    "Check",
    "Level",
    "check_config",
    "check_disk",
    "check_port",
    "check_secret_files",
    "check_service",
    "secret_files",
]

FAIL_FREE_BYTES = 1 << 30  # below 1 GiB free, the store's writes may start failing
WARN_FREE_BYTES = 5 << 30
SECRET_NAMES = ("*.key", "*token*", "*credentials*", "*secret*", "environment", "*.toml")


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was seen and what to do about it."""

    name: str
    level: Level
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {Level.OK: "✓", Level.INFO: "·", Level.WARN: "!", Level.FAIL: "✗"}[self.level]
        return f"{mark} {self.name}: {self.detail}" + (f"\n    → {self.fix}" if self.fix else "")


def check_config(config_file: Path | None) -> Check:
    if config_file is None or not config_file.exists():
        where = config_file or "no config file"
        return Check("config", Level.INFO, f"{where}: Pepper's defaults (demo data, rules mode)")
    return Check("config", Level.OK, str(config_file))


def secret_files(settings: OrchestratorSettings, config_file: Path | None) -> list[Path]:
    """Files that hold or may hold secrets: the config, tokens and keys next to it and in the data dir."""
    places = [settings.data_dir, settings.data_dir / "trust"]
    if config_file is not None:
        places.append(config_file.parent)
    found = {config_file} if config_file is not None and config_file.exists() else set()
    for place in places:
        for pattern in SECRET_NAMES:
            found.update(path for path in place.glob(pattern) if path.is_file())
    return sorted(found)


def check_secret_files(settings: OrchestratorSettings, config_file: Path | None) -> Check:
    exposed = [path for path in secret_files(settings, config_file) if path.stat().st_mode & 0o077]
    if exposed:
        listed = ", ".join(f"{path} ({stat.filemode(path.stat().st_mode)})" for path in exposed)
        return Check(
            "permissions",
            Level.FAIL,
            f"readable by others: {listed}",
            "chmod 600 " + " ".join(str(path) for path in exposed),
        )
    return Check("permissions", Level.OK, "config, tokens and keys are readable only by you (0600)")


def check_disk(
    settings: OrchestratorSettings, fail_below: int = FAIL_FREE_BYTES, warn_below: int = WARN_FREE_BYTES
) -> Check:
    """Free space where Pepper keeps its data, and how much its databases use."""
    place = settings.data_dir
    while not place.exists() and place != place.parent:
        place = place.parent
    usage = shutil.disk_usage(place)
    stored = sum(path.stat().st_size for path in settings.data_dir.glob("*.sqlite3*") if path.is_file())
    detail = f"{_size(usage.free)} free on {place}; Pepper's databases use {_size(stored)}"
    if usage.free < fail_below:
        return Check(
            "disk", Level.FAIL, detail, "free some space: the context store refuses writes on a full disk"
        )
    if usage.free < warn_below or usage.free < usage.total // 20:
        return Check("disk", Level.WARN, detail, "the disk is nearly full")
    return Check("disk", Level.OK, detail)


def check_port(settings: OrchestratorSettings) -> Check:
    running = remote.locate(settings)
    if (settings.data_dir / remote.RUNNING).exists() and running is not settings:
        return Check("ui", Level.OK, f"Pepper is running on this data dir, UI on port {running.ui_port}")
    try:
        with socket.socket(socket.AF_INET6 if ":" in settings.ui_host else socket.AF_INET) as probe:
            probe.bind((settings.ui_host, settings.ui_port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return Check("ui", Level.FAIL, f"cannot listen on {settings.ui_host}:{settings.ui_port}: {exc}")
        return Check(
            "ui",
            Level.FAIL,
            f"port {settings.ui_port} is taken by another program (not a Pepper on {settings.data_dir})",
            f"stop it, or run Pepper with --port {settings.ui_port + 1} (or ui_port in the config)",
        )
    return Check("ui", Level.OK, f"port {settings.ui_port} on {settings.ui_host} is free for the UI")


def check_service() -> Check:
    try:
        manager = service_manager(ServicePlan(log_file=default_log_file()))
    except ServiceError as exc:
        return Check("service", Level.INFO, str(exc))
    if not manager.unit_path.exists():
        return Check(
            "service",
            Level.INFO,
            "not installed",
            "`pepper-orchestrator service install` runs Pepper at login",
        )
    try:
        return Check("service", Level.OK, manager.status().splitlines()[0])
    except ServiceError as exc:
        return Check("service", Level.WARN, f"installed at {manager.unit_path}, state unknown", str(exc))


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)
