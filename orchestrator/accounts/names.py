"""Names of accounts: connection names (`gmail.work`), the server kind behind one (`gmail`), and
stored ids scoped by account (`work:<provider id>`; the account `default` keeps the provider's id, so
single-account data needs no migration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_ACCOUNT",
    "account_of",
    "connection_name",
    "provider_id",
    "scoped_id",
    "server_kind",
    "unscoped_id",
]

DEFAULT_ACCOUNT = "default"
ACCOUNT_SERVERS = ("gmail", "calendar")


def connection_name(server: str, account: str) -> str:
    """`gmail` for the default account, `gmail.NAME` for any other."""
    return server if account == DEFAULT_ACCOUNT else f"{server}.{account}"


def server_kind(connection: str) -> str:
    """The kind of server behind a connection: `gmail.work` → `gmail`; other names are their own kind."""
    head, dot, _ = connection.partition(".")
    return head if dot and head in ACCOUNT_SERVERS else connection


def account_of(connection: str) -> str:
    """The account a connection serves: `gmail.work` → `work`, `gmail` → `default`."""
    head, dot, tail = connection.partition(".")
    return tail if dot and head in ACCOUNT_SERVERS else DEFAULT_ACCOUNT


def scoped_id(account: str, provider: str) -> str:
    """The stored id of a provider's message or event in `account`."""
    return provider if account == DEFAULT_ACCOUNT else f"{account}:{provider}"


def unscoped_id(account: str, stored: str) -> str:
    """The provider's id of a stored id of `account` (the inverse of `scoped_id`)."""
    return stored if account == DEFAULT_ACCOUNT else stored.removeprefix(f"{account}:")


def provider_id(stored: Mapping[str, Any]) -> str:
    """The provider's own id of a stored message or event (its data), to call its server with."""
    return str(stored.get("provider_id") or stored["id"])
