"""From `[accounts.NAME]` to the server that serves it: the one place account servers are built.

An account's server is Pepper's own `pepper-gmail` or `pepper-calendar` module, its settings passed as
`PEPPER_GMAIL_*` / `PEPPER_CALENDAR_*` variables, its index and change log in
`DATA_DIR/accounts/NAME`, its write flags the account's own (else the global ones). `default` is the
account of the single-account connections `gmail` / `calendar`.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from orchestrator.accounts.config import ACCOUNT_KINDS, AccountConfig
from orchestrator.accounts.names import DEFAULT_ACCOUNT, account_of, connection_name, server_kind
from orchestrator.config import SERVER_MODULES, ServerConfig, write_flags

if TYPE_CHECKING:
    from orchestrator.config import OrchestratorSettings

__all__ = ["account_command", "account_connections", "account_env", "account_server"]

PREFIX = {"gmail": "PEPPER_GMAIL_", "calendar": "PEPPER_CALENDAR_"}


def account_connections(settings: OrchestratorSettings, server: str | None = None) -> list[str]:
    """The connection names of the enabled accounts other than `default` (of one server kind)."""
    return [
        connection_name(account.server, name)
        for name, account in settings.accounts.items()
        if account.enabled and name != DEFAULT_ACCOUNT and server in (None, account.server)
    ]


def account_server(settings: OrchestratorSettings, connection: str) -> ServerConfig | None:
    """The server of the account behind `connection` (`gmail.work`; `gmail` for `[accounts.default]`),
    or None when no account table defines it."""
    account = settings.accounts.get(account_of(connection))
    if account is None or account.server != server_kind(connection):
        return None
    return ServerConfig(
        enabled=account.enabled,
        command=account_command(settings, account),
        env=account_env(settings, account_of(connection), account),
    )


def account_command(settings: OrchestratorSettings, account: AccountConfig) -> list[str]:
    """How to start the account's server, with its write flags."""
    allow_write = settings.allow_write if account.allow_write is None else account.allow_write
    allow_send = settings.allow_send if account.allow_send is None else account.allow_send
    command = [sys.executable, "-m", SERVER_MODULES[account.server]]
    if account.server == "calendar" and settings.timezone:
        command += ["--timezone", settings.timezone]
    return command + write_flags(account.server, allow_write, allow_send)


def account_env(settings: OrchestratorSettings, name: str, account: AccountConfig) -> dict[str, str]:
    """The account's settings as its server's variables."""
    prefix = PREFIX[account.server]
    env = {f"{prefix}{key.upper()}": _text(value) for key, value in account.settings().items()}
    if (provider := ACCOUNT_KINDS[account.kind].provider) is not None:
        env[f"{prefix}PROVIDER"] = provider
    if account.kind == "ics":
        ics = account.settings()["ics"]
        env[f"{prefix}ICS"] = json.dumps([str(path) for path in (ics if isinstance(ics, list) else [ics])])
    env[f"{prefix}STATE_DIR"] = str(settings.data_dir / "accounts" / name)
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
