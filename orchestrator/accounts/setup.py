"""`pepper-orchestrator setup KIND --account NAME`: add or replace the account `NAME` only.

The same walk-through as `orchestrator.setup_accounts` (the same questions, the same proof over MCP
with a read-only tool), but what is proven is the account's own server as Pepper will start it, and
what is written is the `[accounts.NAME]` table; every other table of the file is kept as it was.
Tokens of an account live in `accounts/NAME/` beside the config file, so two Google accounts never
share one.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import tomlkit
from pydantic import ValidationError

from orchestrator.accounts.config import AccountConfig, check_accounts
from orchestrator.accounts.specs import PREFIX, account_command, account_env
from orchestrator.config import OrchestratorSettings, default_config_path
from orchestrator.setup_accounts import ACCOUNTS, ENVIRONMENTS, SetupError, oauth, verify, write_private

__all__ = ["setup_named_account"]


def setup_named_account(
    kind: str,
    name: str,
    settings: OrchestratorSettings,
    *,
    allow_write: bool = False,
    allow_send: bool = False,
    config_file: Path | None = None,
    ask: Callable[[str], str] = input,
    ask_secret: Callable[[str], str] = getpass.getpass,
    authorize: Callable[[Path, list[str]], Any] | None = None,
) -> Path:
    """Ask, verify the account's server over MCP, and write `[accounts.NAME]`; returns the file."""
    path = config_file or default_config_path()
    access = "send" if allow_send else "write" if allow_write else "read"
    folder = path.parent / "accounts" / name
    env = ENVIRONMENTS[kind](settings, folder, access, ask, ask_secret, authorize or oauth)
    table = account_table(kind, env, allow_write, allow_send)
    try:
        account = AccountConfig.model_validate(table)
        others = {key: value for key, value in settings.accounts.items() if key != name}
        check_accounts({**others, name: account})
    except (ValidationError, ValueError) as exc:
        raise SetupError(f"accounts.{name}: {_first_error(exc)}") from None
    anyio.run(
        verify, account.server, account_command(settings, account), account_env(settings, name, account)
    )
    write_account(path, name, table)
    return path


def account_table(kind: str, env: dict[str, str], allow_write: bool, allow_send: bool) -> dict[str, Any]:
    """The `[accounts.NAME]` table of the answers (the server's variables as the kind's keys)."""
    prefix = PREFIX[ACCOUNTS[kind]]
    table: dict[str, Any] = {"kind": kind}
    table |= {
        key.removeprefix(prefix).lower(): value for key, value in env.items() if key != f"{prefix}PROVIDER"
    }
    if allow_write or allow_send:
        table["allow_write"] = True
    if allow_send:
        table["allow_send"] = True
    return table


def write_account(path: Path, name: str, table: dict[str, Any]) -> None:
    """Add or replace `[accounts.NAME]` in the TOML file, keeping the rest of it; mode 0600."""
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    accounts = document.setdefault("accounts", tomlkit.table(is_super_table=True))
    written = tomlkit.table()
    for key, value in table.items():
        written[key] = value
    accounts[name] = written
    write_private(path, tomlkit.dumps(document))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return str(exc).split(": ", 1)[-1]
