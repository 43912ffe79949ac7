"""`pepper-calendar`: run the calendar MCP server over stdio (default) or streamable HTTP.

    pepper-calendar --ics PATH [--ics PATH ...] [--allow-write] [--allow-send] [--timezone Europe/Berlin]
                    [--transport stdio|http] [--host 127.0.0.1] [--port 8767]

Settings come from `PEPPER_CALENDAR_*` variables (the HTTP bearer token from `PEPPER_CALENDAR_TOKEN`);
the flags override them. Logs go to stderr: stdout carries the stdio transport.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_servers.common.startup import reporting_startup_errors
from mcp_servers.common.transport import (
    add_transport_arguments,
    check_options,
    log_to_stderr,
    run_server,
    transport_options,
)

from .server import build_server
from .settings import CalendarSettings

DEFAULT_PORT = 8767


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pepper-calendar", description="Pepper's calendar MCP server")
    add_transport_arguments(parser, DEFAULT_PORT)
    parser.add_argument(
        "--ics", type=Path, action="append", help="a .ics file or a folder of them (repeatable)"
    )
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="allow creating, changing and deleting your own events without other people",
    )
    parser.add_argument(
        "--allow-send",
        action="store_true",
        help="also allow invitations, answers to invitations, and changes or deletions of events "
        "other people are invited to (implies --allow-write)",
    )
    parser.add_argument("--timezone", help="your IANA timezone, e.g. Europe/Berlin (default: the system's)")
    return parser.parse_args(argv)


def settings_from(arguments: argparse.Namespace) -> CalendarSettings:
    settings = CalendarSettings()
    updates: dict[str, object] = {}
    if arguments.ics:
        updates["ics"] = arguments.ics
    if arguments.allow_write:
        updates["allow_write"] = True
    if arguments.allow_send:
        updates["allow_send"] = True
    if arguments.timezone:
        try:
            ZoneInfo(arguments.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SystemExit(
                f"unknown timezone {arguments.timezone!r}: use an IANA name like Europe/Berlin"
            ) from None
        updates["timezone"] = arguments.timezone
    return settings.model_copy(update=updates)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    log_to_stderr(arguments.log_level)
    with reporting_startup_errors("pepper-calendar"):
        settings = settings_from(arguments)
        options = transport_options(arguments, settings.token, settings.allowed_hosts)
        check_options(options)
        run_server(build_server(settings), options)


if __name__ == "__main__":
    main()
