"""The `mcpServers` configuration that lets an MCP host (Claude Desktop, Cursor, VS Code, MCP
Inspector, ...) start Pepper's servers itself, on the same data the orchestrator uses.

No secret is ever printed. A server whose settings hold one (an IMAP password, an API key, an OAuth
client secret) is started through `pepper-orchestrator serve NAME`, which reads them from the
config file (mode 0600) and then becomes the server; an HTTP server's bearer token is written as a
reference to an environment variable the host must set. `notes` says what the user still has to do.
Each `[accounts.NAME]` is its own entry (`pepper-gmail-NAME`, `pepper-calendar-NAME`).
The `pepper` entry is the running Pepper's own health (`pepper://health`, orchestrator.health.host).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from orchestrator.accounts.names import server_kind
from orchestrator.accounts.specs import account_connections
from orchestrator.config import SERVER_MODULES, OrchestratorSettings

__all__ = ["HostConfig", "SECRET_NAME", "mcp_servers_config", "token_variable"]

CONSOLE_SCRIPTS = {
    "context": "pepper-context-store",
    "gmail": "pepper-gmail",
    "calendar": "pepper-calendar",
    "notify": "pepper-notify",
}
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY|CREDENTIAL", re.IGNORECASE)


class HostConfig(dict[str, Any]):
    """The JSON for the host, plus `notes`: what the user must do that the JSON cannot say."""

    notes: list[str]


def token_variable(name: str) -> str:
    """The environment variable the host reads an HTTP server's bearer token from."""
    return f"PEPPER_{name.upper()}_TOKEN"


def mcp_servers_config(
    settings: OrchestratorSettings, host: str = "claude-desktop", config_file: Path | None = None
) -> HostConfig:
    """The host's server map for every enabled server: `{"mcpServers": ...}` for Claude Desktop (and
    Cursor, Windsurf), `{"servers": ...}` with explicit types for VS Code."""
    servers: dict[str, Any] = {}
    notes: list[str] = []
    for name in [*SERVER_MODULES, *account_connections(settings)]:
        config = settings.server(name)
        if not config.enabled:
            continue
        if config.url:
            entry: dict[str, Any] = {"url": config.url}
            if config.token is not None:
                variable = token_variable(name)
                entry["headers"] = {"Authorization": f"Bearer ${{env:{variable}}}"}
                notes.append(f"pepper-{name}: set {variable} in the host's environment to the server's token")
        elif any(SECRET_NAME.search(key) for key in config.env):
            command, *args = _orchestrator()
            serve = ["serve", name, "--data-dir", str(settings.data_dir)]
            entry = {"command": command, "args": [*args, *_config_args(config_file), *serve]}
            notes.append(
                f"pepper-{name}: its secrets stay in the config file; `pepper-orchestrator serve` reads them"
            )
        else:
            command, args = _launcher(name, config.command)
            entry = {"command": command, "args": args}
            if config.env:
                entry["env"] = dict(config.env)
        if host == "vscode":
            entry = {"type": "http" if config.url else "stdio", **entry}
        servers[f"pepper-{name.replace('.', '-')}"] = entry  # an account: pepper-gmail-work
    command, *args = _orchestrator()
    health = {
        "command": command,
        "args": [*args, *_config_args(config_file), "serve", "pepper", "--data-dir", str(settings.data_dir)],
    }
    servers["pepper"] = {"type": "stdio", **health} if host == "vscode" else health
    shaped = HostConfig({"servers": servers} if host == "vscode" else {"mcpServers": servers})
    shaped.notes = notes
    return shaped


def _config_args(config_file: Path | None) -> list[str]:
    return ["--config", str(config_file.resolve())] if config_file is not None else []


def _orchestrator() -> list[str]:
    script = Path(sys.executable).with_name("pepper-orchestrator")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestrator.cli"]


def _launcher(name: str, command: list[str]) -> tuple[str, list[str]]:
    """Prefer the installed console script next to this interpreter: hosts show it by name."""
    module_prefix = [sys.executable, "-m", SERVER_MODULES[server_kind(name)]]
    script = Path(sys.executable).with_name(CONSOLE_SCRIPTS[server_kind(name)])
    if command[:3] == module_prefix and script.exists():
        return str(script), command[3:]
    return command[0], command[1:]
