"""The `mcpServers` configuration that lets an MCP host (Claude Desktop, Cursor, MCP Inspector, ...)
start Pepper's servers itself, on the same data the orchestrator uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from orchestrator.config import SERVER_MODULES, OrchestratorSettings

__all__ = ["mcp_servers_config"]

CONSOLE_SCRIPTS = {
    "context": "pepper-context-store",
    "gmail": "pepper-gmail",
    "calendar": "pepper-calendar",
    "notify": "pepper-notify",
}


def mcp_servers_config(settings: OrchestratorSettings, host: str = "claude-desktop") -> dict[str, Any]:
    """The host's server map for every enabled server: `{"mcpServers": ...}` for Claude Desktop (and
    Cursor, Windsurf), `{"servers": ...}` with explicit types for VS Code. HTTP servers are URLs."""
    servers: dict[str, Any] = {}
    for name in SERVER_MODULES:
        config = settings.server(name)
        if not config.enabled:
            continue
        key = f"pepper-{name}"
        if config.url:
            entry: dict[str, Any] = {"url": config.url}
        else:
            command, args = _launcher(name, config.command)
            entry = {"command": command, "args": args}
            if config.env:
                entry["env"] = dict(config.env)
        if host == "vscode":
            entry = {"type": "http" if config.url else "stdio", **entry}
        servers[key] = entry
    return {"servers": servers} if host == "vscode" else {"mcpServers": servers}


def _launcher(name: str, command: list[str]) -> tuple[str, list[str]]:
    """Prefer the installed console script next to this interpreter: hosts show it by name."""
    module_prefix = [sys.executable, "-m", SERVER_MODULES[name]]
    script = Path(sys.executable).with_name(CONSOLE_SCRIPTS[name])
    if command[:3] == module_prefix and script.exists():
        return str(script), command[3:]
    return command[0], command[1:]
