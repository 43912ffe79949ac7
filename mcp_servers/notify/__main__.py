"""`pepper-notify`: run the notify MCP server over stdio or streamable HTTP.

Flags choose the transport and the database file; everything else comes from `PEPPER_NOTIFY_*`
environment variables (see README.md), including the HTTP bearer token `PEPPER_NOTIFY_TOKEN`.
The database is opened once before serving: when it cannot be used (a read-only data directory, a
file that is not a database, a lock held by another process), one line says why and the exit status
is 2; the traceback is shown only with `--log-level DEBUG`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pydantic import ValidationError

from mcp_servers.common.startup import StartupError, reporting_startup_errors
from mcp_servers.common.transport import (
    add_transport_arguments,
    check_options,
    log_to_stderr,
    run_server,
    transport_options,
)

from .errors import StorageError
from .server import build_server
from .settings import NotifySettings
from .store import Store

DEFAULT_PORT = 8768


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pepper-notify", description="Pepper's notify MCP server")
    add_transport_arguments(parser, default_port=DEFAULT_PORT)
    parser.add_argument(
        "--db", type=Path, help="SQLite file (default: PEPPER_NOTIFY_DB_PATH or the user data dir)"
    )
    return parser.parse_args(argv)


def check_store(path: Path) -> None:
    """Open and close the database, so that one that cannot be used stops the start in words."""
    try:
        Store(path).close()
    except StorageError as exc:
        raise StartupError(f"cannot start: {exc}") from exc


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    log_to_stderr(args.log_level)
    with reporting_startup_errors("pepper-notify"):
        try:
            settings = NotifySettings() if args.db is None else NotifySettings(db_path=args.db)
        except ValidationError as exc:
            raise StartupError(f"invalid PEPPER_NOTIFY_* setting:\n{exc}") from None
        options = transport_options(args, settings.token, settings.allowed_hosts)
        check_options(options)
        logging.getLogger(__name__).info("notify store at %s", settings.db_path)
        check_store(settings.db_path)
        run_server(build_server(settings), options)


if __name__ == "__main__":
    main()
