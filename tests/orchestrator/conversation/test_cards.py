"""A card's number is a reference: the page hands over the Now cards it shows, in its order
(`conversation.cards`), and "snooze card 2", "card 1 done", "remind me about 3 tomorrow" and "what is
urgent?" follow that order (here the reverse of the ranking, to show it is the page's that counts),
against a real context store and notify server. A number the chat listed itself points into the
chat's list while it is fresh, then at the page's cards again."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import LISTED_FOR
from orchestrator.conversation.cards import PageCards
from orchestrator.conversation.hidden import NAMESPACE
from orchestrator.conversation.intents import Reading
from orchestrator.conversation.mail_actions import urgent
from orchestrator.feeds.signals import Signal
from orchestrator.triage.now import NOW_READS
from tests.orchestrator.conversation.test_actions import BERLIN, PINNED, conversation
from tests.orchestrator.conversation.test_snooze_done import Clock
from tests.orchestrator.conversation.test_waiting_on_me import triaged_mailbox

pytestmark = pytest.mark.anyio


async def page_order(items: ContextItems) -> tuple[list[str], dict[str, str]]:
    """The mail cards in an order no ranking gives (the reverse of their ids), and their titles."""
    signals = await items.query(["signals.email"], limit=50)
    titles = {f"signals.email/{item.id}": item.data["summary"] for item in signals}
    return sorted(titles, reverse=True), titles


async def put_away(items: ContextItems) -> dict[str, str]:
    return {item.id: item.data["state"] for item in await items.query([NAMESPACE])}


@pytest.mark.servers("context", "notify")
async def test_card_numbers_follow_the_page_for_urgent_snooze_done_and_reminders(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    order, titles = await page_order(items)
    talk = conversation(connections, clock=lambda: PINNED)
    talk.cards.show(order)
    listed = (await talk.answer("what is urgent?")).text.splitlines()
    assert listed[0] == "Needs your attention:"
    assert [line.split("** ", 1)[1] for line in listed[1 : len(order) + 1]] == [titles[k] for k in order]
    assert (await talk.answer("snooze card 2")).text.endswith(f": {titles[order[1]]}")
    assert (await talk.answer("card 1 done")).text == f"Done, off your Now list: {titles[order[0]]}"
    assert await put_away(items) == {order[1]: "snoozed", order[0]: "done"}
    later = conversation(connections, clock=lambda: datetime.now(BERLIN))  # the notify server's clock
    later.cards.show(order)
    reminded = await later.answer("remind me about 3 tomorrow")
    assert reminded.text.endswith(f": {titles[order[2]]}")
    [reminder] = (await connections["notify"].call_tool("list_reminders", {})).structured["reminders"]
    assert reminder["message"] == titles[order[2]]


@pytest.mark.servers("context")
async def test_a_bare_number_points_into_the_chats_own_list_while_fresh_then_at_the_page(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    order, titles = await page_order(items)
    clock = Clock(PINNED)
    talk = conversation(connections, clock=clock)
    talk.cards.show(order)
    assert (await talk.answer("what did Priya send me?")).text.startswith("From Priya:\n1.")
    assert (await talk.answer("snooze 1 until monday")).text.endswith(": Lunch")
    clock.at = PINNED + LISTED_FOR + timedelta(minutes=1)
    assert (await talk.answer("snooze 1 until monday")).text.endswith(f": {titles[order[0]]}")
    assert set(await put_away(items)) == {"signals.email/p1", order[0]}


@pytest.mark.servers("context")
async def test_a_card_number_without_a_page_or_out_of_range_gets_a_question(connections) -> None:
    await triaged_mailbox(ContextItems(connections["context"]))
    talk = conversation(connections)
    unseen = await talk.answer("snooze card 2")
    assert unseen.text.startswith("Open Pepper's page to see the cards' numbers")
    talk.cards.show(["signals.email/d1", "signals.email/p1"])
    beyond = await talk.answer("mark card 9 done")
    assert beyond.question and beyond.text == "Now shows 2 cards; which one do you mean?"
    talk.cards.show(["signals.email/gone"])
    gone = await talk.answer("snooze card 1")
    assert gone.text == "Card 1 has just left Now; look again."


def judged(n: int, attention: bool) -> dict:
    """A mail signal as the mail feed stores it: in Now (`attention`) or old list mail."""
    summary = f"Board deck numbers, part {n}" if attention else f"Weekly digest #{n}"
    return Signal(
        kind="email", source_id=f"{'now' if attention else 'old'}-{n:04d}", summary=summary,
        priority="high" if attention else "low", category="action" if attention else "bulk",
        score=3.0 - n / 100 if attention else -4.0, attention=attention,
    ).store_item()  # fmt: skip


@pytest.mark.servers("context")
async def test_what_is_urgent_finds_now_s_mail_behind_hundreds_of_signals_judged_after_it(
    connections,
) -> None:
    # A first sync judges the newest mail first, then years of older mail: Now's mail is among the
    # first signals written. The chat read the newest 300 signals and found none of it.
    items = ContextItems(connections["context"])
    await items.put_many([judged(n, attention=True) for n in range(20)])
    for start in range(0, 600, 200):
        await items.put_many([judged(n, attention=False) for n in range(start, start + 200)])
    answer, refs = await urgent(
        SimpleNamespace(items=items, memo={}), Reading(intent="urgent_mail", text="what is urgent?"), PINNED
    )
    assert answer.startswith("Needs your attention:\n1. **high** Board deck numbers, part 0\n"), answer
    assert answer.endswith("…and 5 more in Now."), answer  # 20 in Now, 15 shown
    assert [ref.id for ref in refs] == [f"now-{n:04d}" for n in range(15)]


def test_the_page_may_only_name_cards_and_not_too_many() -> None:
    cards = PageCards()
    with pytest.raises(ValueError, match=r"'raw.email/m1' is not a card's key: use signals"):
        cards.show(["signals.email/m1", "raw.email/m1"])
    with pytest.raises(ValueError, match="201 cards is more than a page shows"):
        cards.show([f"signals.email/m{n}" for n in range(201)])
    assert not cards.known
    cards.show(["notifications.inbox/n1", "signals.reminder/r1"])
    assert cards.keys == ["notifications.inbox/n1", "signals.reminder/r1"]


class AllAtOnce:
    """A context store whose signal reads answer only once `expected` of them are being asked
    together (read one after another, the first would never be answered)."""

    def __init__(self, expected: int) -> None:
        self.expected, self.asked = expected, 0
        self.together = anyio.Event()

    async def query(self, namespaces: list[str], tags: list[str] | None = None, limit: int = 50) -> list:
        if namespaces == [NAMESPACE]:  # the cards put away: read once, before the signals
            return []
        self.asked += 1
        if self.asked == self.expected:
            self.together.set()
        with anyio.fail_after(5):
            await self.together.wait()
        return []


@pytest.mark.anyio
@pytest.mark.parametrize(("shown", "reads"), [(None, len(NOW_READS) + 2), ([], 2)])
async def test_what_is_urgent_asks_its_reads_of_the_store_at_once(shown: list | None, reads: int) -> None:
    """Without a page's cards: the Now reads and the two urgent-tag reads; with them, the two."""
    items = AllAtOnce(reads)
    services = SimpleNamespace(items=items, memo={})
    answer, refs = await urgent(
        services, Reading(intent="urgent_mail", text="what is urgent?"), PINNED, shown
    )
    assert items.asked == reads and (answer, refs) == ("Nothing urgent right now.", [])
