"""Which connection acts on a stored message or event, and with which id: the stored item decides.

Pepper's stored ids are `<account>:<provider id>` for accounts other than `default` (see `names`),
and every stored message, event and mail signal carries its `account`. An id alone cannot say
whose it is: the default account's IMAP folder or calendar called `work` has provider ids
`work:…`, which read like the stored ids of an account `work`. So the rule is: an action on a
stored item is routed by that item (`item_route`; `stored_route` fetches it by id with one `get`),
never by the shape of its id, and an id that names no stored item is not routed at all (the
action says so). A call that already names its connection (a worker's `gmail_work__trash`, an
approved action) has its ids made the provider's by `provider_ids`: an id that is the stored id of
an item of that connection's account becomes the item's provider id; any other id is taken to be
the provider's own and passes unchanged.
"""

from __future__ import annotations

from typing import Any

from orchestrator.accounts.names import DEFAULT_ACCOUNT, account_of, connection_name, server_kind, unscoped_id
from orchestrator.context_items import ContextItems

__all__ = ["ID_ARGUMENTS", "STORED", "item_route", "provider_ids", "stored_route"]

ID_ARGUMENTS = ("id", "ids", "message_id", "message_ids", "event_id")
STORED = {"gmail": ("raw.email", "signals.email"), "calendar": ("raw.calendar",)}
WHAT = {"gmail": "mail", "calendar": "event"}


def account_in(data: Any) -> str:
    """The account a stored item's data came from (data stored before accounts existed: the default)."""
    return str(data.get("account") or DEFAULT_ACCOUNT) if isinstance(data, dict) else DEFAULT_ACCOUNT


def item_route(server: str, stored_id: str, data: Any) -> tuple[str, str]:
    """(connection name, provider id) of the item stored under `stored_id` with `data`, of kind
    `server` (`gmail`, `calendar`): the connection of the account it came from, and the id that
    account's server knows."""
    account = account_in(data)
    provider = data.get("provider_id") if isinstance(data, dict) else None
    return connection_name(server, account), str(provider or unscoped_id(account, stored_id))


async def stored_route(items: ContextItems, server: str, stored_id: str) -> tuple[str, str]:
    """`item_route` of the item stored under `stored_id` (its message or event first, else its
    signal); a `LookupError` that says so when Pepper stores no such item."""
    for namespace in STORED[server]:
        if (item := await items.get(namespace, stored_id)) is not None:
            return item_route(server, item.id, item.data)
    raise LookupError(
        f"no {WHAT[server]} {stored_id!r} among what Pepper has read, so its account is unknown; "
        f"pick one Pepper showed"
    )


async def provider_ids(
    items: ContextItems | None, connection: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """`arguments` for the server behind `connection`, each id argument (a list of ids likewise)
    that is the stored id of an item of this connection's account replaced by the item's provider
    id; any other argument, and any other id, is left as it is."""
    account, kind = account_of(connection), server_kind(connection)
    if account == DEFAULT_ACCOUNT or items is None or kind not in STORED:
        return arguments  # the default account's stored ids are its provider ids
    prefix = f"{account}:"
    wanted = sorted(
        {value for key in ID_ARGUMENTS for value in _strings(arguments.get(key)) if value.startswith(prefix)}
    )
    if not wanted:
        return arguments
    known: dict[str, str] = {}
    for namespace in reversed(STORED[kind]):  # the message's own record wins over its signal
        for item in (await items.get_many(namespace, wanted)).values():
            if account_in(item.data) == account:
                known[item.id] = item_route(kind, item.id, item.data)[1]

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return known.get(value, value)
        return [plain(part) for part in value] if isinstance(value, list) else value

    return {key: plain(value) if key in ID_ARGUMENTS else value for key, value in arguments.items()}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [part for part in value if isinstance(part, str)] if isinstance(value, list) else []
