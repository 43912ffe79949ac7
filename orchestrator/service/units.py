"""Render the service definitions: a systemd user unit and a launchd agent plist (pure functions).

Both run the same command line (`ServicePlan.command`: this Python, `-m orchestrator run`, the config
and the log file), start at login, restart only after a failure, and stop with SIGTERM, which
`pepper-orchestrator run` answers with a clean stop of every child server. The restart delay grows on
systemd 254 and later (`RestartSteps`); older systemd restarts every 10 s and gives up after 10 failed
starts in 10 minutes (`systemctl --user reset-failed pepper` starts over); launchd waits at least
`ThrottleInterval` seconds between starts. Secrets never go into either file: the systemd unit reads
an optional `EnvironmentFile` the user keeps at mode 0600.
"""

from __future__ import annotations

import plistlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LAUNCHD_LABEL",
    "SYSTEMD_UNIT_NAME",
    "ServicePlan",
    "render_launchd_plist",
    "render_systemd_unit",
    "systemd_quote",
]

SYSTEMD_UNIT_NAME = "pepper.service"
LAUNCHD_LABEL = "org.pepper.orchestrator"
RESTART_SECONDS = 10
MAX_RESTART_SECONDS = 300
STOP_TIMEOUT_SECONDS = 30
_BACKOFF_SYSTEMD = 254  # the first systemd with RestartSteps / RestartMaxDelaySec


@dataclass(frozen=True)
class ServicePlan:
    """What the service runs: the interpreter, the config, the data dir, where its logs go."""

    log_file: Path
    config: Path | None = None
    data_dir: Path | None = None
    port: int | None = None
    python: Path = field(default_factory=lambda: Path(sys.executable))
    environment_file: Path | None = None

    @property
    def command(self) -> list[str]:
        arguments = [str(self.python), "-m", "orchestrator.cli"]
        if self.config is not None:
            arguments += ["--config", str(self.config)]
        arguments += ["run", "--log-file", str(self.log_file)]
        if self.data_dir is not None:
            arguments += ["--data-dir", str(self.data_dir)]
        if self.port is not None:
            arguments += ["--port", str(self.port)]
        return arguments


def systemd_quote(argument: str) -> str:
    """One ExecStart word: `%` and `$` escaped (systemd expands them), quoted when it has spaces."""
    escaped = argument.replace("%", "%%").replace("$", "$$")
    if any(character in escaped for character in " \t\"'\\;") or not escaped:
        escaped = '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def render_systemd_unit(plan: ServicePlan, systemd_version: int | None = None) -> str:
    """The text of `~/.config/systemd/user/pepper.service` for `plan`."""
    backoff = (
        ["RestartSteps=5", f"RestartMaxDelaySec={MAX_RESTART_SECONDS}"]
        if systemd_version is not None and systemd_version >= _BACKOFF_SYSTEMD
        else []
    )
    environment = (
        [f"EnvironmentFile=-{systemd_quote(str(plan.environment_file))}"] if plan.environment_file else []
    )
    lines = [
        "[Unit]",
        "Description=Pepper, the proactive assistant",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitIntervalSec=600",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(systemd_quote(word) for word in plan.command),
        "WorkingDirectory=%h",
        "Environment=PYTHONUNBUFFERED=1",
        *environment,
        "Restart=on-failure",
        f"RestartSec={RESTART_SECONDS}",
        *backoff,
        "KillSignal=SIGTERM",
        "KillMode=mixed",
        f"TimeoutStopSec={STOP_TIMEOUT_SECONDS}",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def render_launchd_plist(plan: ServicePlan) -> bytes:
    """The bytes of `~/Library/LaunchAgents/org.pepper.orchestrator.plist` for `plan`."""
    agent_log = str(plan.log_file.with_name("launchd.log"))
    agent = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": plan.command,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": RESTART_SECONDS,
        "ExitTimeOut": STOP_TIMEOUT_SECONDS,
        "ProcessType": "Background",
        "Umask": 0o077,
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "StandardOutPath": agent_log,
        "StandardErrorPath": agent_log,
    }
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML, sort_keys=True)
