"""The Now cards as the page numbers them, so that "snooze card 3", "card 2 done" or, when the chat
has listed nothing lately, "mark 4 read" act on the card the user sees with that number.

The page is the one place that orders Now (`web/static/ui.js` `renderNow`: what the user sees is what
it drew, filters and "show more" included); it numbers the cards it shows and hands their keys over,
in order, with each chat message and whenever the list changes (`POST /pepper/api/now`). This module
keeps the last list and turns a number into the card's `Ref` (its title and kind read from the
context store), for the conversation and the LLM mode's tools alike. A key is the page's own:
`signals.<kind>/<id>` for a signal's card, `notifications.inbox/<id>` for a notification's.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.conversation.services import ActionError, Ref, Services

__all__ = ["MOST_CARDS", "PageCards", "card_ref", "signal_ref"]

MOST_CARDS = 200
KEY = re.compile(r"^(?P<namespace>signals\.[a-z_]+|notifications\.inbox)/(?P<id>[^/\s][^\s]{0,500})$")


class PageCards:
    """The keys of the Now cards the page shows, in its order (card 1 first)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.known = False  # whether a page has said what it shows

    def show(self, keys: list[str]) -> None:
        """What the page shows now; a key that is no card's is refused with what is wrong."""
        if len(keys) > MOST_CARDS:
            raise ValueError(f"{len(keys)} cards is more than a page shows ({MOST_CARDS} at most)")
        wrong = [key for key in keys if not KEY.match(key)]
        if wrong:
            raise ValueError(
                f"{wrong[0]!r} is not a card's key: use signals.<kind>/<id> or notifications.inbox/<id>"
            )
        self.keys, self.known = list(keys), True

    async def refs(self, services: Services, numbers: list[int] | None = None) -> list[Ref]:
        """The cards with these numbers (1 = the first shown), or every card shown."""
        if not self.known:
            raise ActionError(
                "Open Pepper's page to see the cards' numbers, or ask me `what is urgent?` and use its."
            )
        if not self.keys:
            raise ActionError("Now shows no cards at the moment.")
        for number in numbers or ():
            if not 1 <= number <= len(self.keys):
                raise ActionError(f"Now shows {len(self.keys)} cards; which one do you mean?")
        keys = [self.keys[n - 1] for n in numbers] if numbers is not None else self.keys
        found = await _card_refs(services, keys)
        for key in keys:
            if key not in found and numbers is not None:
                raise ActionError(f"Card {self.keys.index(key) + 1} has just left Now; look again.")
        return [found[key] for key in keys if key in found]  # the page drops a vanished card too


async def card_ref(services: Services, key: str) -> Ref | None:
    """The card behind a page key, as a reference the acting intents take; None once it is gone."""
    return (await _card_refs(services, [key])).get(key) if KEY.match(key) else None


async def _card_refs(services: Services, keys: list[str]) -> dict[str, Ref]:
    """The cards behind page keys that still exist, by key: one read per namespace."""
    wanted: dict[str, list[str]] = {}
    for key in keys:
        if match := KEY.match(key):
            wanted.setdefault(match["namespace"], []).append(match["id"])
    found: dict[str, Ref] = {}
    for namespace, ids in wanted.items():
        for item_id, item in (await services.items.get_many(namespace, ids)).items():
            if isinstance(item.data, dict):
                found[f"{namespace}/{item_id}"] = _ref(namespace, item_id, item.data)
    return found


def _ref(namespace: str, item_id: str, data: dict[str, Any]) -> Ref:
    if namespace == "notifications.inbox":
        title = str(data.get("title") or "(notification)")
        return Ref(
            "notification", item_id, title, "", namespace, {"priority": data.get("priority", "normal")}
        )
    return signal_ref(namespace, item_id, data)


def signal_ref(namespace: str, item_id: str, signal: dict[str, Any]) -> Ref:
    """A signal's card as a reference: its summary, its people (for "the Dana one"), its priority."""
    people = " ".join(str(person) for person in signal.get("people") or []).lower()
    extra = {"priority": signal.get("priority", "normal")}
    if signal.get("account") not in (None, "default"):  # the chat names it (orchestrator.accounts)
        extra["account"] = signal["account"]
    return Ref("signal", item_id, str(signal.get("summary") or item_id), people, namespace, extra)
