"""One answer from every account of a kind: a read tool called on each account's server, the lists
merged (events by start, mail newest first) with each entry's `account` and stored-style id, so
Today, the chat's agenda and its mail search show every account, and an event named later reaches the account it came from. Free time is
the time free in every calendar: each account's server subtracts its own busy time (its declined and
transparent events, its working hours), and the free stretches are intersected, which is the same as
subtracting the busy time of all of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from orchestrator.accounts.names import account_of, scoped_id, server_kind

__all__ = ["accounts_of", "free_in_every", "merged_list"]

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def accounts_of(server: str, connections: Collection[str]) -> list[str]:
    """The connections of kind `server` (`calendar`, `calendar.work`, …), the default first."""
    return sorted(
        (name for name in connections if server_kind(name) == server), key=lambda n: (n != server, n)
    )


async def merged_list(
    call: Call,
    server: str,
    tool: str,
    arguments: dict[str, Any],
    key: str,
    connections: Collection[str],
    newest_first: bool = False,
) -> dict[str, Any]:
    """`tool`'s answer from every account of `server`, the lists under `key` merged (by `start`, or
    by `date` newest first for mail). With one account, its answer as it is; with several, each
    entry carries `account` and a scoped `id`."""
    names = accounts_of(server, connections) or [server]
    if len(names) == 1:
        return await call(names[0], tool, arguments)
    merged: list[dict[str, Any]] = []
    for name in names:
        account = account_of(name)
        for entry in (await call(name, tool, arguments)).get(key, []):
            merged.append({**entry, "id": scoped_id(account, str(entry["id"])), "account": account})
    if newest_first:
        merged.sort(key=lambda entry: str(entry.get("date") or ""), reverse=True)
    else:
        merged.sort(key=lambda entry: str(entry.get("start") or ""))
    return {key: merged}


async def free_in_every(
    call: Call, arguments: dict[str, Any], shortest: timedelta, connections: Collection[str]
) -> dict[str, Any]:
    """`find_free_slots` asked of every calendar account: the stretches at least `shortest` long
    that are free in all of them (with one account, its answer as it is)."""
    names = accounts_of("calendar", connections) or ["calendar"]
    answers = [await call(name, "find_free_slots", arguments) for name in names]
    if len(answers) == 1:
        return answers[0]
    free = _stretches(answers[0])
    for answer in answers[1:]:
        free = _intersection(free, _stretches(answer))
    slots = [{"start": a.isoformat(), "end": b.isoformat()} for a, b in free if b - a >= shortest]
    return {"slots": slots, "truncated": any(answer.get("truncated") for answer in answers)}


def _stretches(answer: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    pairs = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in answer.get("slots", [])
    ]
    return sorted(pairs)


def _intersection(
    ours: list[tuple[datetime, datetime]], theirs: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of two sorted lists of disjoint stretches that lie in both."""
    both, i, j = [], 0, 0
    while i < len(ours) and j < len(theirs):
        start, end = max(ours[i][0], theirs[j][0]), min(ours[i][1], theirs[j][1])
        if start < end:
            both.append((start, end))
        if ours[i][1] < theirs[j][1]:
            i += 1
        else:
            j += 1
    return both
