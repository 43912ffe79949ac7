"""`pepper-orchestrator run`: start the servers, the loop and the web UI, say where everything is,
and stop cleanly (every child server ends with it) on Ctrl-C or SIGTERM.

With `--demo`, a generated mailbox and calendar are written under the data directory first (once; an
existing mailbox is kept) and the demo user's address and VIPs are used. The UI binds to 127.0.0.1;
bound elsewhere it requires `PEPPER_UI_TOKEN` and prints a one-time login link. The UI serves from
the start: its data waits for the context store, and the page shows the other servers as they connect.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import uvicorn

from mcp_servers.common.host_guard import HostAllowlist, is_loopback, needs_token
from orchestrator import remote
from orchestrator.app import Pepper
from orchestrator.config import ConfigError, OrchestratorSettings
from orchestrator.mcp_clients import ServerUnavailable, ToolCallFailed, ToolCallTimeout

__all__ = ["prepare_data", "run"]

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 5.0


def prepare_data(settings: OrchestratorSettings, demo: bool) -> OrchestratorSettings:
    """Make the folders the local servers read, and with `demo`, the demo data and its user."""
    if demo:  # before the folders below exist: the generator keeps any mailbox it finds
        from orchestrator.demo import generate_demo

        summary = generate_demo(settings.data_dir)
        print(summary.describe(), file=sys.stderr)
    (settings.data_dir / "calendar").mkdir(parents=True, exist_ok=True)
    for folder in ("cur", "new", "tmp"):
        (settings.data_dir / "mail" / folder).mkdir(parents=True, exist_ok=True)
    if not demo:
        return settings
    return settings.model_copy(
        update={
            "user_addresses": sorted({*settings.user_addresses, summary.user_address}),
            "vips": sorted({*settings.vips, *summary.vips}),
            "allow_write": True,  # the demo's own local mailbox and calendar: both flags on
            "allow_send": True,  # approved replies land in its Sent folder, invitations in its outbox
            "timezone": settings.timezone or summary.timezone,
        }
    )


def ui_token(settings: OrchestratorSettings) -> str | None:
    token = settings.ui_token.get_secret_value() if settings.ui_token else None
    if token is None and needs_token(settings.ui_host, settings.ui_allowed_hosts):
        hosts = ", ".join(settings.ui_allowed_hosts)
        raise SystemExit(
            f"refusing to serve the UI on {settings.ui_host}"
            + (f" for the hosts {hosts}" if hosts else "")
            + " without PEPPER_UI_TOKEN; or use 127.0.0.1"
            + (" and no PEPPER_UI_ALLOWED_HOSTS" if hosts else "")
        )
    return token


async def run(settings: OrchestratorSettings) -> None:
    """Run Pepper and its UI until interrupted."""
    from web.app import create_app

    token = ui_token(settings)
    try:
        pepper = Pepper(settings)
    except ConfigError as exc:
        raise SystemExit(f"pepper-orchestrator: {exc}") from exc
    config = uvicorn.Config(
        create_app(pepper, token, HostAllowlist(settings.ui_host, settings.ui_allowed_hosts)),
        host=settings.ui_host,
        port=settings.ui_port,
        timeout_graceful_shutdown=3,  # open event streams never end by themselves
        log_level="warning",
        lifespan="off",
    )
    web = QuietServer(config)
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(_stop_on_signals, web)
            # The UI serves while the servers start: its data comes from the context store, whose
            # answers wait for it to connect; the page shows which servers are still connecting.
            task_group.start_soon(_serve_then_stop, web, pepper, task_group.cancel_scope)
            await task_group.start(pepper.run)
            while not web.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await anyio.sleep(0.05)
            remote.announce(settings)
            print(startup_summary(pepper, token), file=sys.stderr, flush=True)
            # The log (a service's only record) gets the summary too, without the login token.
            logger.info("started: %s", "; ".join(startup_summary(pepper, None).splitlines()[1:-1]))
    finally:
        remote.withdraw(settings)
        await pepper.aclose()
    logger.info("stopped")
    print("Pepper stopped.", file=sys.stderr)


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: it would re-raise Ctrl-C after a graceful stop, which
    ends the process with a traceback. `_stop_on_signals` does the job instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _stop_on_signals(web: uvicorn.Server) -> None:
    """Ctrl-C or SIGTERM: let the UI finish its requests; once it has, everything else stops."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            web.should_exit = True


async def _serve_then_stop(web: uvicorn.Server, pepper: Pepper, scope: anyio.CancelScope) -> None:
    await web.serve()
    with anyio.move_on_after(FLUSH_SECONDS):  # a store that does not answer must not hold the stop
        try:
            await pepper.flush()
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            logger.warning("could not save the last state before stopping: %s", exc)
    scope.cancel()


def ui_link_host(settings: OrchestratorSettings) -> str:
    """The host name for the printed link: one the UI answers to (a wildcard bind answers none)."""
    if is_loopback(settings.ui_host):
        return "localhost"
    name = settings.ui_host if settings.ui_host not in ("0.0.0.0", "::", "") else None
    name = name or next(iter(settings.ui_allowed_hosts), "localhost")
    return f"[{name}]" if ":" in name else name


def startup_summary(pepper: Pepper, token: str | None) -> str:
    settings = pepper.settings
    host = ui_link_host(settings)
    url = f"http://{host}:{settings.ui_port}/pepper/ui.html"
    if token:
        url = f"http://{host}:{settings.ui_port}/pepper/login?token={token}"
    mode = (
        f"LLM mode ({settings.model} at {settings.openai_base_url or 'api.openai.com'})"
        if pepper.model
        else "rules mode: no OPENAI_BASE_URL or OPENAI_API_KEY, so triage and chat use rules"
    )
    servers = ", ".join(
        f"{name} {'✓' if c.state.value == 'connected' else '✗ ' + (c.last_error or c.state.value)}"
        for name, c in pepper.connections.items()
    )
    return "\n".join(
        [
            "Pepper is running.",
            f"  mode:    {mode}",
            f"  servers: {servers}",
            f"  data:    {Path(settings.data_dir)}",
            f"  UI:      {url}",
            "Press Ctrl-C to stop.",
        ]
    )
