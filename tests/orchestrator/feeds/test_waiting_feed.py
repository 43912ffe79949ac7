"""The "waiting on you" feed in a real context store: one `today.waiting` item per thread that waits on
the user, written once, and deleted when the user replies."""

from __future__ import annotations

import pytest

from orchestrator.context_items import ContextItems, store_item
from orchestrator.feeds.waiting_feed import NAMESPACE, WaitingFeed
from tests.orchestrator.conversation.test_actions import PINNED, USER
from tests.orchestrator.conversation.test_waiting_on_me import ALEX, DANA, MAILBOX, mail, triaged_mailbox

pytestmark = pytest.mark.anyio


@pytest.mark.servers("context")
async def test_waiting_signals_follow_the_mail_and_a_reply_removes_one(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    feed = WaitingFeed(items, [USER])
    assert await feed.refresh(MAILBOX, PINNED) == 3
    stored = {item.id: item.data for item in await items.query([NAMESPACE])}
    assert sorted(stored) == ["d1", "p1", "t2"]
    assert (
        stored["d1"]["summary"]
        == "Dana Whitfield — Atlas launch moved: Could you update the pricing page by Friday?"
    )
    assert (stored["d1"]["kind"], stored["d1"]["priority"]) == ("waiting", "low")
    assert stored["d1"]["since"] == MAILBOX[0]["date"]
    assert await feed.refresh(MAILBOX, PINNED) == 0  # nothing changed: nothing written
    reply = mail("a2", "t-atlas", ALEX, DANA, "Re: Atlas launch moved", "Done.", 0.5)
    assert await WaitingFeed(items, [USER]).refresh([*MAILBOX, reply], PINNED) == 1
    assert sorted(item.id for item in await items.query([NAMESPACE])) == ["p1", "t2"]


@pytest.mark.servers("context")
async def test_asks_are_found_behind_a_thousand_asks_judged_after_them(connections) -> None:
    """A first sync judges this week's mail first and years of older mail after it: a thousand asks
    of old mail written later do not hide the asks of the mail that waits now."""
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    old = {"kind": "email", "priority": "normal", "action_items": ["Can you review this?"]}
    await items.put_many(
        [
            store_item("signals.email", f"old{n}", {**old, "source_id": f"old{n}"}, tags=["action"])
            for n in range(1000)
        ]
    )
    assert await WaitingFeed(items, [USER]).refresh(MAILBOX, PINNED) == 3
    assert sorted(item.id for item in await items.query([NAMESPACE])) == ["d1", "p1", "t2"]
