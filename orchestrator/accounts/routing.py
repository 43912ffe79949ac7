"""Which connection acts on a stored message or event: the one of the account it came from.

Pepper's stored ids are `<account>:<provider id>` for accounts other than `default` (see `names`);
`route` turns one into the account's connection name and the id its server knows, and `unscoped`
does the same to a call's arguments, so a worker or an approved action that names a stored id reaches
the right mailbox with the right id.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from orchestrator.accounts.names import DEFAULT_ACCOUNT, account_of, connection_name

__all__ = ["ID_ARGUMENTS", "mail_route", "route", "unscoped"]

ID_ARGUMENTS = ("id", "ids", "message_id", "message_ids", "event_id")


def route(server: str, stored_id: str, connections: Collection[str]) -> tuple[str, str]:
    """(connection name, provider id) of a stored id of kind `server` (`gmail`, `calendar`): the
    account whose connection is live and whose name prefixes the id, else the default account."""
    account, colon, rest = stored_id.partition(":")
    if colon and account != DEFAULT_ACCOUNT and (name := connection_name(server, account)) in connections:
        return name, rest
    return server, stored_id


def mail_route(stored: Mapping[str, Any], connections: Collection[str]) -> tuple[str, str]:
    """(connection name, provider id) of a stored message's data: its `account` says which."""
    account = str(stored.get("account") or DEFAULT_ACCOUNT)
    if account == DEFAULT_ACCOUNT:
        return "gmail", str(stored["id"])
    return connection_name("gmail", account), str(stored.get("provider_id") or stored["id"])


def unscoped(connection: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """`arguments` for the server behind `connection`, with this account's stored ids made the
    provider's own (a list of ids likewise); any other argument is left as it is."""
    account = account_of(connection)
    if account == DEFAULT_ACCOUNT:
        return arguments
    prefix = f"{account}:"

    def plain(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(prefix):
            return value.removeprefix(prefix)
        return [plain(part) for part in value] if isinstance(value, list) else value

    return {key: plain(value) if key in ID_ARGUMENTS else value for key, value in arguments.items()}
