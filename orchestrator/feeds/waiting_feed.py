"""The "waiting on you" feed: `today.waiting`, one signal per thread that waits on the user's reply
(`waiting_on_me`), kept in step with the mail: a new ask adds one, the user's reply deletes it.

It runs where the mail's headers are already held (the conversation's mail index, which follows the
log), so finding who waits costs one read of the triage's asks: those of the held messages that
could wait on the user, read by id. (A read of the newest asks written missed this week's after a
first sync, which judges years of older mail after it.) The page shows these in Today beside
the follow-ups (`web/static/ui.js`). They live outside `signals.*` on purpose: the scheduler acts on
every signal, and the mail itself already reached it (and has its card in Now) as `signals.email`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from orchestrator.context_items import ContextItems
from orchestrator.feeds.signals import Signal
from orchestrator.feeds.waiting_on_me import WaitingOnMe, may_wait, waiting_on_user

__all__ = ["NAMESPACE", "WaitingFeed", "triage_asks"]

NAMESPACE = "today.waiting"
MOST = 1000


class WaitingFeed:
    def __init__(self, items: ContextItems, user_addresses: list[str]) -> None:
        self._items = items
        self._user = user_addresses
        self._stored: dict[str, Any] | None = None  # id → data, as stored

    async def refresh(self, messages: Sequence[Mapping[str, Any]], now: datetime) -> int:
        """Store the threads that wait on the user now and delete those that no longer do; returns
        how many signals changed."""
        asks = await triage_asks(self._items, messages, self._user)
        waiting = {w.email_id: _signal(w) for w in waiting_on_user(messages, asks, self._user, now)}
        stored = await self._known()
        changed = [item for key, item in waiting.items() if stored.get(key) != item["data"]]
        gone = [key for key in stored if key not in waiting]
        await self._items.put_many(changed)
        for key in gone:
            await self._items.delete(NAMESPACE, key)
        self._stored = {key: item["data"] for key, item in waiting.items()}
        return len(changed) + len(gone)

    async def _known(self) -> dict[str, Any]:
        if self._stored is None:
            self._stored = {item.id: item.data for item in await self._items.query([NAMESPACE], limit=MOST)}
        return self._stored


async def triage_asks(
    items: ContextItems, messages: Iterable[Mapping[str, Any]], user_addresses: Iterable[str]
) -> dict[str, list[str]]:
    """Message id → the sentences in it that ask the user something, as the triage found them, for
    those of `messages` that could wait on the user (`may_wait`), read by id."""
    user = {address.lower() for address in user_addresses}
    ids = [str(message["id"]) for message in messages if message.get("id") and may_wait(message, user)]
    signals = await items.get_many("signals.email", ids) if ids else {}
    return {
        key: list(s.data.get("action_items") or []) for key, s in signals.items() if isinstance(s.data, dict)
    }


def _signal(waiting: WaitingOnMe) -> dict[str, Any]:
    item = Signal(
        kind="waiting",
        source_id=waiting.email_id,
        priority="low",
        category="waiting",
        summary=f"{waiting.sender} — {waiting.subject or '(no subject)'}: {waiting.asked[0]}",
        action_items=list(waiting.asked),
        people=[waiting.sender],
        reasons=[f"asked {waiting.since:%a %d %b}"],
        link=f"gmail://message/{waiting.email_id}",
        sender=waiting.sender_email or None,
        account=waiting.account,
    ).store_item()
    item["data"]["since"] = waiting.since.isoformat()
    item["namespace"] = NAMESPACE
    return item
