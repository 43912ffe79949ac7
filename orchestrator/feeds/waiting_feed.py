"""The "waiting on you" feed: `today.waiting`, one signal per thread that waits on the user's reply
(`waiting_on_me`), kept in step with the mail: a new ask adds one, the user's reply deletes it.

It runs where the mail's headers are already held (the conversation's mail index, which follows the
log), so finding who waits costs one read of the triage's asks. The page shows these in Today beside
the follow-ups (`web/static/ui.js`). They live outside `signals.*` on purpose: the scheduler acts on
every signal, and the mail itself already reached it (and has its card in Now) as `signals.email`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from orchestrator.context_items import ContextItems
from orchestrator.feeds.signals import Signal
from orchestrator.feeds.waiting_on_me import WaitingOnMe, waiting_on_user

__all__ = ["NAMESPACE", "WaitingFeed", "triage_asks"]

NAMESPACE = "today.waiting"
MOST = 1000


class WaitingFeed:
    def __init__(self, items: ContextItems, user_addresses: list[str]) -> None:
        self._items = items
        self._user = user_addresses
        self._stored: dict[str, Any] | None = None  # id → data, as stored

    async def refresh(self, messages: Iterable[Mapping[str, Any]], now: datetime) -> int:
        """Store the threads that wait on the user now and delete those that no longer do; returns
        how many signals changed."""
        asks = await triage_asks(self._items)
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


async def triage_asks(items: ContextItems) -> dict[str, list[str]]:
    """Message id → the sentences in it that ask the user something, as the triage found them."""
    signals = await items.query(["signals.email"], ["action"], limit=MOST)
    return {s.id: list(s.data.get("action_items") or []) for s in signals if isinstance(s.data, dict)}


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
