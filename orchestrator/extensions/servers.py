"""From a `[servers.NAME]` table to the `ServerSpec` a `ServerConnection` opens: Pepper's own
servers and the ones the user added alike (argv = `command` + `args`; the bearer token from `token`
or the variable `token_env` names)."""

from __future__ import annotations

from orchestrator.config import ConfigError, OrchestratorSettings
from orchestrator.mcp_clients import ServerConnection, ServerSpec

__all__ = ["connect", "server_spec"]


def server_spec(settings: OrchestratorSettings, name: str) -> ServerSpec:
    """Raises ConfigError when `token_env` names a variable that is not set (at start, so that
    `pepper-orchestrator status` from another shell does not need the token)."""
    config = settings.server(name)
    try:
        token = config.bearer()
    except ConfigError as exc:
        raise ConfigError(f"servers.{name}: {exc}") from None
    return ServerSpec(name=name, command=config.argv(), url=config.url, env=config.env, token=token)


def connect(settings: OrchestratorSettings, name: str) -> ServerConnection:
    """The self-healing connection to server `name`; an added server's tool list is followed."""
    return ServerConnection(
        server_spec(settings, name),
        call_timeout=settings.tool_timeout_seconds,
        follow_tools=name in settings.added_servers(),
        trust_results=settings.server(name).runs_pepper_server(),
    )
