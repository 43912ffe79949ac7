"""Cards the user put away from Now: snoozed until a time, or done.

Each is one item in the context store's `now.hidden`, its id the card's key as the page knows it
(`signals.email/<mail id>`, `notifications.inbox/<id>`), its data the key, a title, `state` (`snoozed` or `done`), `until` (a
snooze's end, ISO, else null) and when it was put away. Kept in the store, a put-away card stays put
away across a restart of Pepper; every write is logged, so an open page hides it at once
(`web/static/ui.js`) and shows it again when the snooze ends. A snooze's item also expires a day after
its end, so the store does not keep them. Hiding is local and reversible: nothing in the mailbox
changes (archiving is an outward action that needs approval, see `orchestrator.trust.capabilities`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from orchestrator.conversation.services import Ref, Services

__all__ = ["NAMESPACE", "card_key", "hidden_keys", "hide", "is_hidden"]

NAMESPACE = "now.hidden"
KEPT_AFTER_SNOOZE = timedelta(days=1)
MOST = 1000


def card_key(ref: Ref) -> str | None:
    """The key of the Now card `ref` is about (a signal's, or the triage signal of a mail), if any."""
    if ref.namespace.startswith("signals."):
        return f"{ref.namespace}/{ref.id}"
    if ref.kind == "email":
        return f"signals.email/{ref.id}"
    if ref.kind == "notification":
        return f"notifications.inbox/{ref.id}"
    return None


async def hide(services: Services, key: str, title: str, now: datetime, until: datetime | None) -> None:
    """Put the card away: until `until`, or for good (done) when it is None."""
    data = {
        "key": key,
        "title": title,
        "state": "done" if until is None else "snoozed",
        "until": until.isoformat() if until is not None else None,
        "at": now.isoformat(),
    }
    ttl = (until - now + KEPT_AFTER_SNOOZE).total_seconds() if until is not None else None
    await services.items.put(NAMESPACE, key, data, f"{data['state']}: {title}", ttl_seconds=ttl)
    (await _cards(services))[key] = data


def is_hidden(data: Any, now: datetime) -> bool:
    """Whether a `now.hidden` item's card is still put away at `now`."""
    if not isinstance(data, dict):
        return False
    until = data.get("until")
    return until is None or datetime.fromisoformat(str(until)) > now


async def hidden_keys(services: Services, now: datetime) -> set[str]:
    """The keys of the cards put away at `now`."""
    return {key for key, data in (await _cards(services)).items() if is_hidden(data, now)}


async def _cards(services: Services) -> dict[str, Any]:
    """Every put-away card, read from the store once: the conversation is their only writer, so its
    own copy stays current and a question costs no call for them."""
    cards = services.memo.get(NAMESPACE)
    if cards is None:
        cards = {item.id: item.data for item in await services.items.query([NAMESPACE], limit=MOST)}
        services.memo[NAMESPACE] = cards
    return cards
