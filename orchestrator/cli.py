"""`pepper-orchestrator`: run Pepper, inspect it, approve its pending actions, configure MCP hosts.

    pepper-orchestrator mcp-config [--host claude-desktop|vscode]   the MCP host's JSON for the servers

Every command takes `--config PATH` (a TOML file; see orchestrator.config). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestrator.config import load_settings
from orchestrator.mcp_config import mcp_servers_config

__all__ = ["main"]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pepper-orchestrator", description="Pepper, the proactive assistant"
    )
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)
    host = commands.add_parser("mcp-config", help="print the MCP host configuration for Pepper's servers")
    host.add_argument("--host", choices=["claude-desktop", "vscode"], default="claude-desktop")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        settings = load_settings(arguments.config)
    except FileNotFoundError as exc:
        raise SystemExit(f"pepper-orchestrator: {exc}") from exc
    if arguments.command == "mcp-config":
        print(json.dumps(mcp_servers_config(settings, arguments.host), indent=2))


if __name__ == "__main__":
    main()
