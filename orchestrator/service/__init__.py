"""Pepper as a background service: a systemd user unit on Linux, a launchd agent on macOS.

`pepper-orchestrator service install|uninstall|status|logs` writes and manages the unit that starts
Pepper at login, restarts it after a failure (with a growing delay) and stops it cleanly. The unit
runs `pepper-orchestrator run` with `--log-file`, so logs go to a rotating file in the user's state
directory as well as to the journal (systemd) or the agent's own files (launchd). Rendering is pure
(`units`); talking to systemctl/launchctl is in `manager`; the rotating log handler in `logfile`.
"""

from orchestrator.service.logfile import default_log_file, log_to_file
from orchestrator.service.manager import ServiceError, ServiceManager, service_manager
from orchestrator.service.units import ServicePlan, render_launchd_plist, render_systemd_unit

__all__ = [
    "ServiceError",
    "ServiceManager",
    "ServicePlan",
    "default_log_file",
    "log_to_file",
    "render_launchd_plist",
    "render_systemd_unit",
    "service_manager",
]
