"""One answer from every account of a kind: a read tool called on each account's server, the lists
merged (sorted by start) with each entry's `account` and stored-style id, so Today and the chat's
agenda show every calendar, and an event named later reaches the account it came from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from orchestrator.accounts.names import account_of, scoped_id, server_kind

__all__ = ["accounts_of", "merged_list"]

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def accounts_of(server: str, connections: Collection[str]) -> list[str]:
    """The connections of kind `server` (`calendar`, `calendar.work`, …), the default first."""
    return sorted(
        (name for name in connections if server_kind(name) == server), key=lambda n: (n != server, n)
    )


async def merged_list(
    call: Call, server: str, tool: str, arguments: dict[str, Any], key: str, connections: Collection[str]
) -> dict[str, Any]:
    """`tool`'s answer from every account of `server`, the lists under `key` merged. With one
    account, its answer as it is; with several, each entry carries `account` and a scoped `id`."""
    names = accounts_of(server, connections) or [server]
    if len(names) == 1:
        return await call(names[0], tool, arguments)
    merged: list[dict[str, Any]] = []
    for name in names:
        account = account_of(name)
        for entry in (await call(name, tool, arguments)).get(key, []):
            merged.append({**entry, "id": scoped_id(account, str(entry["id"])), "account": account})
    merged.sort(key=lambda entry: str(entry.get("start") or ""))
    return {key: merged}
