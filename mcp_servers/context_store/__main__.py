"""`pepper-context-store`: run the context store MCP server over stdio (default) or streamable HTTP.

    pepper-context-store [--transport stdio|http] [--host 127.0.0.1] [--port 8765] [--db PATH] [--debug]

Settings come from `PEPPER_CONTEXT_*` variables (the HTTP bearer token from `PEPPER_CONTEXT_TOKEN`);
`--db` overrides `PEPPER_CONTEXT_DB_PATH`. Logs go to stderr: stdout carries the stdio transport.
The database is opened before serving: when it cannot be (a read-only data directory, a file that
is not a database, a lock held by another process), one line says why and the exit code is 2; the
traceback is shown only with `--debug`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_servers.common.transport import add_transport_arguments, log_to_stderr, run_server, transport_options

from .errors import StorageError
from .server import build_server
from .services import open_store
from .settings import ContextStoreSettings
from .store import ContextStore

DEFAULT_PORT = 8765
EXIT_STORAGE = 2

logger = logging.getLogger("mcp_servers.context_store")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pepper-context-store", description="Pepper's context store MCP server"
    )
    add_transport_arguments(parser, DEFAULT_PORT)
    parser.add_argument(
        "--db", type=Path, help="SQLite file (default: PEPPER_CONTEXT_DB_PATH or the user data dir)"
    )
    parser.add_argument("--debug", action="store_true", help="debug logs, and tracebacks with errors")
    return parser.parse_args(argv)


def open_or_exit(settings: ContextStoreSettings, debug: bool) -> ContextStore:
    """The opened store, or one line on stderr and exit code 2 when the database cannot be used."""
    try:
        return open_store(settings)
    except StorageError as exc:
        logger.error("pepper-context-store cannot start: %s", exc, exc_info=debug)
        raise SystemExit(EXIT_STORAGE) from None


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    log_to_stderr("DEBUG" if arguments.debug else "INFO")
    settings = ContextStoreSettings()
    if arguments.db is not None:
        settings = settings.model_copy(update={"db_path": arguments.db})
    store = open_or_exit(settings, arguments.debug)
    try:
        run_server(build_server(settings, store), transport_options(arguments, settings.token))
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
