"""Pepper's stdio servers, started before the orchestrator loads its own code.

Every server process spends about a second importing the MCP stack, and so does the orchestrator; on
a two-core machine, starting the servers only once the orchestrator is ready leaves a core idle for
that second. `EarlyServers` starts them first (this module imports only the standard library), so
they and the orchestrator's imports share the machine; the orchestrator's first session to each
server then adopts its process (`adopted_stdio`). Each process is started as `stdio_client` would:
its own session (so a Ctrl-C in the terminal reaches only Pepper, which stops them), stdin and stdout
as pipes, stderr shared with Pepper's. A process nobody adopted is stopped by `close`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.config import OrchestratorSettings

__all__ = ["EarlyServers", "start_servers_early", "stop_process"]

GRACE_SECONDS = 2.0


class EarlyServers:
    """Server processes started ahead of their sessions, by server name."""

    def __init__(self) -> None:
        self._processes: dict[str, tuple[list[str], subprocess.Popen[bytes]]] = {}

    def start(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> None:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **env},
            start_new_session=True,
        )
        self._processes[name] = (list(command), process)

    def take(self, name: str, command: Sequence[str]) -> subprocess.Popen[bytes] | None:
        """The running process started for `name` with exactly `command`, handed over once."""
        started = self._processes.get(name)
        if started is None or started[0] != list(command) or started[1].poll() is not None:
            return None
        del self._processes[name]
        return started[1]

    def close(self) -> None:
        """Stop every process that was not taken."""
        for _, process in self._processes.values():
            stop_process(process)
        self._processes.clear()


def start_servers_early(settings: OrchestratorSettings, names: Sequence[str]) -> EarlyServers:
    """Start the enabled stdio servers among `names` now, for `Pepper(settings, early)` to adopt."""
    early = EarlyServers()
    for name in names:
        config = settings.server(name)
        if config.enabled and config.command and not config.url:
            early.start(name, config.command, config.env)
    return early


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Close its stdin (a stdio server's cue to exit), then SIGTERM and SIGKILL its process group."""
    for pipe in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            if pipe is not None:
                pipe.close()
    for signal_number in (None, signal.SIGTERM, signal.SIGKILL):
        if signal_number is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal_number)
        try:
            process.wait(GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
