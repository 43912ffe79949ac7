"""`[accounts.NAME]` tables: a `kind` and that kind's settings, checked before anything starts.

Each kind lists the settings it requires and the ones it accepts; every setting is handed to the
account's server as its `PEPPER_GMAIL_*` / `PEPPER_CALENDAR_*` variable (see `specs`). Errors name the
account and the key: an unknown kind, a bad account name, a missing or unknown setting, or two
accounts on one mailbox or calendar.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.accounts.names import DEFAULT_ACCOUNT, connection_name

__all__ = [
    "ACCOUNT_KINDS",
    "AccountConfig",
    "Kind",
    "account_servers",
    "check_accounts",
    "unknown_worker_servers",
]

ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")
MAIL_OPTIONAL = {"from_address", "smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password"}
CALENDAR_OPTIONAL = {"user_email", "upcoming_hours", "poll_seconds", "invite_outbox"}


class Kind(BaseModel):
    """What one kind of account runs on and which settings it takes; `identity`: the settings that
    say which mailbox or calendar it is (two accounts must not share them)."""

    server: str
    provider: str | None = None
    required: tuple[str, ...]
    optional: frozenset[str]
    identity: tuple[str, ...]


ACCOUNT_KINDS: dict[str, Kind] = {
    "maildir": Kind(
        server="gmail", provider="maildir", required=("maildir",), optional=frozenset(MAIL_OPTIONAL),
        identity=("maildir",),
    ),
    "imap": Kind(
        server="gmail", provider="imap", required=("imap_host", "imap_username", "imap_password"),
        optional=frozenset({*MAIL_OPTIONAL, "imap_port", "imap_security", "imap_folder", "ca_file", "poll_seconds"}),
        identity=("imap_host", "imap_port", "imap_username"),
    ),
    "gmail": Kind(
        server="gmail", provider="gmail", required=("gmail_token_file",),
        optional=frozenset({*MAIL_OPTIONAL, "gmail_client_secrets", "gmail_api_endpoint", "gmail_token_uri"}),
        identity=("gmail_token_file",),
    ),
    "caldav": Kind(
        server="calendar", required=("caldav_url",),
        optional=frozenset({*CALENDAR_OPTIONAL, "caldav_username", "caldav_password", "caldav_timeout_seconds"}),
        identity=("caldav_url", "caldav_username"),
    ),
    "google-calendar": Kind(
        server="calendar", required=("google_token_file",),
        optional=frozenset({*CALENDAR_OPTIONAL, "google_api_endpoint"}), identity=("google_token_file",),
    ),
    "ics": Kind(server="calendar", required=("ics",), optional=frozenset(CALENDAR_OPTIONAL), identity=("ics",)),
}  # fmt: skip


class AccountConfig(BaseModel):
    """One account: its `kind`, whether it may write or send (unset: the global setting), and the
    kind's own settings as further keys (`imap_host = "..."`)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="imap, gmail, maildir, caldav, google-calendar or ics")
    enabled: bool = Field(True, description="Start and use this account")
    allow_write: bool | None = Field(None, description="Reversible changes (unset: the global allow_write)")
    allow_send: bool | None = Field(None, description="Send, invite, delete (unset: the global allow_send)")

    @model_validator(mode="after")
    def _settings_fit_the_kind(self) -> AccountConfig:
        kind = ACCOUNT_KINDS.get(self.kind)
        if kind is None:
            raise ValueError(f"unknown kind {self.kind!r}; use one of {', '.join(ACCOUNT_KINDS)}")
        given = self.settings()
        if missing := [key for key in kind.required if given.get(key) in (None, "", [])]:
            raise ValueError(f"{_a(self.kind)} account needs {', '.join(missing)}")
        if unknown := sorted(set(given) - set(kind.required) - kind.optional):
            accepted = ", ".join(sorted({*kind.required, *kind.optional}))
            raise ValueError(
                f"{', '.join(unknown)} is not a setting of a {self.kind} account (it takes {accepted})"
            )
        return self

    @property
    def server(self) -> str:
        return ACCOUNT_KINDS[self.kind].server

    def settings(self) -> dict[str, Any]:
        """The kind's settings given in the table."""
        return dict(self.model_extra or {})

    def identity(self) -> tuple[Any, ...]:
        """Which mailbox or calendar this is, to tell two accounts on the same one."""
        given = self.settings()
        keys = ACCOUNT_KINDS[self.kind].identity
        return (self.server, *(_normal(key, given.get(key)) for key in keys))


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _normal(key: str, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(sorted(_normal(key, part) for part in value))
    if key in ("maildir", "ics", "gmail_token_file", "google_token_file"):
        return str(Path(str(value)).expanduser().resolve())
    return str(value).lower().rstrip("/") if isinstance(value, str) else value


def check_accounts(accounts: dict[str, AccountConfig], configured_servers: Collection[str] = ()) -> None:
    """What one table alone cannot check: the names, that no two accounts share a mailbox, and that
    `[accounts.default]` does not meet a `[servers.gmail]` (or `calendar`) that says how to start it."""
    seen: dict[tuple[Any, ...], str] = {}
    for name, account in accounts.items():
        if not ACCOUNT_NAME.match(name):
            raise ValueError(
                f"accounts.{name}: use 1-24 lowercase letters, digits, - and _, starting with a letter"
            )
        if name == "default" and account.server in configured_servers:
            raise ValueError(
                f"accounts.default and servers.{account.server} both say how to reach the default "
                f"account; keep one of them"
            )
        if not account.enabled:
            continue
        if (other := seen.get(account.identity())) is not None:
            raise ValueError(
                f"accounts.{name}: the same mailbox or calendar as accounts.{other}; remove one of them"
            )
        seen[account.identity()] = name


def account_servers(accounts: dict[str, AccountConfig]) -> list[str]:
    """The connection names of the accounts other than `default` (`gmail.work`, `calendar.home`),
    which a custom worker may name in its `servers` beside Pepper's own and the added servers."""
    return [
        connection_name(account.server, name) for name, account in accounts.items() if name != DEFAULT_ACCOUNT
    ]


def unknown_worker_servers(
    worker: str, unknown: list[str], known: Collection[str], accounts: Collection[str]
) -> str:
    """The error for a `[workers.NAME]` whose `servers` names servers that are none of these."""
    choices = ", ".join(sorted(known))
    if accounts:
        choices += f", or an account's server: {', '.join(sorted(accounts))}"
    elif any("." in name for name in unknown):
        choices += "; an account's server (gmail.NAME, calendar.NAME) needs an [accounts.NAME] table"
    return (
        f"workers.{worker}.servers: no server named {', '.join(unknown)}; "
        f"add a [servers.NAME] table or use one of {choices}"
    )
