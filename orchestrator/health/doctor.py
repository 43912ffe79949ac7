"""`pepper-orchestrator doctor`: every check at once, and one line each on what to do.

The local checks run first (they take milliseconds); the servers and the model are then probed
concurrently, each under its own deadline, so one server that hangs costs its deadline, not the sum.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from orchestrator.accounts.specs import account_connections
from orchestrator.config import OrchestratorSettings
from orchestrator.health.checks import (
    Check,
    Level,
    check_config,
    check_disk,
    check_port,
    check_secret_files,
    check_service,
)
from orchestrator.health.probes import clock_references, probe_clock, probe_model, probe_server
from orchestrator.mcp_clients import ServerSpec

__all__ = ["PEPPER_SERVERS", "diagnose", "report"]

PEPPER_SERVERS = ("context", "gmail", "calendar", "notify")


async def diagnose(settings: OrchestratorSettings, config_file: Path | None) -> list[Check]:
    """Run every check on the installation `settings` describe."""
    found = [
        check_config(config_file),
        check_secret_files(settings, config_file),
        check_disk(settings),
        check_port(settings),
        check_service(),
    ]
    probed: dict[str, list[Check]] = {}

    async def probe(name: str) -> None:
        config = settings.server(name)
        spec = ServerSpec(
            name=name, command=config.command, url=config.url, env=config.env, token=config.token
        )
        probed[name] = await probe_server(spec)

    async def model() -> None:
        probed["~model"] = [await probe_model(settings)]

    async def clock() -> None:
        probed["~clock"] = [await probe_clock(clock_references(settings))]

    servers = [*PEPPER_SERVERS, *account_connections(settings)]  # every account's own server too
    async with anyio.create_task_group() as checks:
        for name in servers:
            if settings.server(name).enabled:
                checks.start_soon(probe, name)
            else:
                probed[name] = [Check(f"server {name}", Level.INFO, "disabled in the config")]
        checks.start_soon(model)
        checks.start_soon(clock)
    for name in [*servers, "~model", "~clock"]:
        found.extend(probed.get(name, []))
    return found


def report(checks: list[Check]) -> tuple[str, int]:
    """The text to print and the exit status: 1 when anything failed."""
    failed = sum(check.level is Level.FAIL for check in checks)
    warned = sum(check.level is Level.WARN for check in checks)
    verdict = (
        f"{failed} problem{'s' * (failed != 1)} to fix" if failed else "everything Pepper needs works"
    ) + (f", {warned} warning{'s' * (warned != 1)}" if warned else "")
    return "\n".join([*(check.line() for check in checks), "", verdict]), 1 if failed else 0
