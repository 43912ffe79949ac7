"""Corrections of the Now list in rules-mode chat: read as the `correct_item` intent, applied to what
the chat listed (or to an address), learned by the ranker at once; and "mark it read" on a mail
from a read-only mailbox is kept in Pepper, so the chat and the list agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.intents import read
from orchestrator.conversation.services import Services
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.triage.ranker_book import RankerBook

pytestmark = pytest.mark.anyio
ME = "alex@example.com"
DANA = "dana@example.org"
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["1 is important", "mark it as important", "this is not important", "not important",
     "never from this sender", "mute dana@example.org", "mark 2 not important"],
)  # fmt: skip
def test_corrections_read_as_their_own_intent(text: str) -> None:
    assert read(text, NOW).intent == "correct_item"


@pytest.mark.parametrize("text", ["what is important?", "anything important today?", "mark it read"])
def test_questions_about_importance_stay_questions(text: str) -> None:
    assert read(text, NOW).intent != "correct_item"


async def deliver(feed: MailFeed, items: ContextItems, id: str, sender: str, labels: list[str]) -> None:
    data = {"id": id, "thread_id": id, "from": {"name": sender.split("@")[0].title(), "email": sender},
            "to": [{"email": ME if sender != ME else DANA}], "date": (NOW - timedelta(hours=1)).isoformat(),
            "subject": f"Budget {id}", "text": "Could you check the budget numbers today?", "labels": labels}  # fmt: skip
    seq = await items.put("raw.email", id, data)
    await feed.handle(ContextEvent(seq=seq, namespace="raw.email", id=id, op="store", at=NOW))
    await feed.flush()


@pytest.mark.servers("context")
async def test_chat_corrects_what_it_listed_and_marks_read_in_pepper(connections) -> None:
    items = ContextItems(connections["context"])
    ranker = RankerBook(items)
    feed = MailFeed(items, [ME], [], now=lambda: NOW, ranker=ranker)
    await deliver(feed, items, "s1", ME, ["SENT"])
    await deliver(feed, items, "m1", DANA, ["INBOX", "UNREAD"])
    await deliver(feed, items, "m2", "tom@example.org", ["INBOX", "UNREAD"])
    await ranker.correct("important", NOW, sender="tom@example.org")
    chat = Conversation(Services({"context": connections["context"]}, items, ranker=ranker), lambda: NOW)

    listed = await chat.answer("what is urgent?")
    assert listed.text.startswith("Needs your attention:\n1.") and "Budget m1" in listed.text
    first = "m1" if listed.text.index("Budget m1") < listed.text.index("Budget m2") else "m2"
    answer = await chat.answer("1 is not important")
    assert "is not important; it leaves Now" in answer.text
    assert first not in (await chat.answer("what is urgent?")).text

    await chat.answer("what is urgent?")
    marked = await chat.answer("mark 1 read")  # no gmail server here: read in Pepper only
    assert marked.text.startswith("Marked read: ")
    assert (await chat.answer("what is urgent?")).text == "Nothing urgent right now."

    await deliver(feed, items, "m3", "tom@example.org", ["INBOX", "UNREAD"])
    muted = await chat.answer("never from tom@example.org")
    assert muted.text.startswith("Muted tom@example.org")
    assert (await chat.answer("what is urgent?")).text == "Nothing urgent right now."
