"""`pepper-context-store`: run the context store MCP server over stdio (default) or streamable HTTP.

    pepper-context-store [--transport stdio|http] [--host 127.0.0.1] [--port 8765] [--db PATH]
                         [--rss-budget-mb MB] [--log-level INFO]

Settings come from `PEPPER_CONTEXT_*` variables (the HTTP bearer token from `PEPPER_CONTEXT_TOKEN`);
`--db` overrides `PEPPER_CONTEXT_DB_PATH`, `--rss-budget-mb` `PEPPER_CONTEXT_RSS_BUDGET_MB` (0: none);
with `PEPPER_CONTEXT_DATABASE_URL=postgresql://...` the store lives in PostgreSQL instead, and with
`PEPPER_CONTEXT_TENANTS_FILE` one HTTP server serves every tenant of that file, each request's token
picking its tenant (see the README). Logs go to stderr: stdout carries the stdio transport.
The database is opened before serving: when it cannot be (a read-only data directory, a file that
is not a database, a lock held by another process), one line says why and the exit code is 2; the
traceback is shown only with `--log-level DEBUG`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from mcp_servers.common.startup import StartupError, reporting_startup_errors
from mcp_servers.common.transport import (
    TransportOptions,
    add_transport_arguments,
    check_options,
    log_to_stderr,
    run_server,
    transport_options,
)

from .errors import StorageError
from .server import build_server
from .services import open_storage, open_store
from .settings import ContextStoreSettings
from .sqlite_storage import SqliteStorage
from .store import ContextStore

DEFAULT_PORT = 8765


def budget_mb(text: str) -> int:
    """An RSS budget in MB: 0 for none, else at least 64 (below that not even the server fits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MB") from None
    if value and value < 64:
        raise argparse.ArgumentTypeError(f"{value} MB is too small: give at least 64, or 0 for no budget")
    return value


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pepper-context-store", description="Pepper's context store MCP server"
    )
    add_transport_arguments(parser, DEFAULT_PORT)
    parser.add_argument(
        "--db", type=Path, help="SQLite file (default: PEPPER_CONTEXT_DB_PATH or the user data dir)"
    )
    parser.add_argument(
        "--rss-budget-mb",
        type=budget_mb,
        help="resident memory to keep to, in MB (default: PEPPER_CONTEXT_RSS_BUDGET_MB or 400; 0 for none)",
    )
    return parser.parse_args(argv)


def open_or_fail(settings: ContextStoreSettings) -> ContextStore:
    """The opened store, or a `StartupError` (one line, exit code 2) when the database cannot be used."""
    try:
        return open_store(settings)
    except StorageError as exc:
        raise StartupError(f"cannot start: {exc}") from exc


def check_or_fail(settings: ContextStoreSettings) -> None:
    """Open and close the PostgreSQL backend once (creating the tenant's schema), so that an unreachable
    server is one line and exit code 2; the server opens its own pool on its event loop."""

    async def probe() -> None:
        storage = await open_storage(settings)
        await storage.aclose()

    try:
        anyio.run(probe)
    except StorageError as exc:
        raise StartupError(f"cannot start: {exc}") from exc


def serve_many(settings: ContextStoreSettings, options: TransportOptions) -> None:
    """One process for every tenant of the tenants file (HTTP and PostgreSQL only)."""
    from .tenancy.router import check_tenant_options, serve_tenants

    registry = check_tenant_options(settings, options.transport)
    check_or_fail(settings.model_copy(update={"tenant": None}))
    anyio.run(serve_tenants, settings, registry, options)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    log_to_stderr(arguments.log_level)
    with reporting_startup_errors("pepper-context-store"):
        settings = ContextStoreSettings()
        if arguments.db is not None:
            settings = settings.model_copy(update={"db_path": arguments.db})
        if arguments.rss_budget_mb is not None:
            settings = ContextStoreSettings.model_validate(
                {**settings.model_dump(), "rss_budget_mb": arguments.rss_budget_mb}
            )
        options = transport_options(arguments, settings.token, settings.allowed_hosts)
        if settings.tenants_file is not None:
            serve_many(settings, options)
            return
        check_options(options)
        if settings.database_url is not None:
            check_or_fail(settings)
            run_server(build_server(settings), options)
            return
        store = open_or_fail(settings)
        try:
            run_server(build_server(settings, SqliteStorage(store, settings.poll_interval_seconds)), options)
        finally:
            store.close()


if __name__ == "__main__":
    sys.exit(main())
