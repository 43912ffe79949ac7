""" "Who is waiting on me?" on mail written to a real context store and triaged by the real mail feed:
threads where someone asked the user something and the user has not replied since, oldest first,
with how long; answered threads, mail that asks nothing and list mail are left out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.mail_feed import MailFeed
from tests.orchestrator.conversation.test_actions import PINNED, USER, conversation

pytestmark = pytest.mark.anyio

ALEX = {"name": "Alex Morgan", "email": USER}
DANA = {"name": "Dana Whitfield", "email": "dana@example.com"}
TOM = {"name": "Tom Fischer", "email": "tom@example.com"}
PRIYA = {"name": "Priya Raman", "email": "priya@example.com"}
SAM = {"name": "Sam Lee", "email": "sam@example.com"}
NEWS = {"name": "Acme News", "email": "news@acme.example"}


def mail(
    message_id: str,
    thread: str,
    sender: dict,
    to: dict,
    subject: str,
    text: str,
    hours_ago: float,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": message_id, "thread_id": thread, "message_id": f"<{message_id}@example.com>", "from": sender,
        "to": [to], "date": (PINNED - timedelta(hours=hours_ago)).isoformat(), "subject": subject,
        "text": text, "labels": ["SENT"] if sender is ALEX else ["INBOX"], **extra,
    }  # fmt: skip


MAILBOX = [
    mail(
        "d1", "t-atlas", DANA, ALEX, "Atlas launch moved", "Could you update the pricing page by Friday?", 49
    ),
    mail("t1", "t-budget", TOM, ALEX, "Budget", "Can you send me the budget sheet?", 43),
    mail("a1", "t-budget", ALEX, TOM, "Re: Budget", "Here it is.", 42),
    mail("t2", "t-budget", TOM, ALEX, "Re: Budget", "Thanks! Could you also add the Q3 column?", 1),
    mail("p1", "t-lunch", PRIYA, ALEX, "Lunch", "Are you free for lunch on Thursday?", 2),
    mail("s1", "t-report", SAM, ALEX, "Report", "The report is attached. Nothing to do.", 20),
    mail(
        "n1",
        "t-news",
        NEWS,
        ALEX,
        "Survey",
        "Could you take our two-minute survey?",
        30,
        list_headers={"list_unsubscribe": "<mailto:leave@acme.example>"},
    ),  # fmt: skip
]


async def triaged_mailbox(items: ContextItems) -> None:
    """Store the mailbox as the ingest bridge does, and run the real mail feed over it."""
    feed = MailFeed(items, [USER], [], now=lambda: PINNED)
    for seq, message in enumerate(MAILBOX, start=1):
        sender = f"{message['from']['name']} <{message['from']['email']}>"
        await items.put(
            "raw.email", message["id"], message, f"{message['subject']}\n{sender}\n{message['text']}"
        )
        await feed.handle(
            ContextEvent(seq=seq, namespace="raw.email", id=message["id"], op="store", at=PINNED)
        )
    await feed.flush()


@pytest.mark.servers("context")
async def test_who_is_waiting_on_me_lists_unanswered_asks_oldest_first_with_how_long(connections) -> None:
    await triaged_mailbox(ContextItems(connections["context"]))
    answer = await conversation(connections).answer("who is waiting on me?")
    assert answer.intent == "waiting_on_me" and not answer.question
    assert answer.text.splitlines() == [
        "Waiting on your reply, oldest first:",
        "1. **Dana Whitfield** — Atlas launch moved: Could you update the pricing page by Friday? (waiting 2 days)",
        "2. **Priya Raman** — Lunch: Are you free for lunch on Thursday? (waiting 2 hours)",
        "3. **Tom Fischer** — Re: Budget: Could you also add the Q3 column? (waiting 1 hour)",
    ]


@pytest.mark.servers("context")
async def test_a_reply_from_the_user_ends_the_wait_and_a_named_person_is_checked(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    talk = conversation(connections)
    reply = mail("a2", "t-atlas", ALEX, DANA, "Re: Atlas launch moved", "Done, it is updated.", 0.5)
    await items.put("raw.email", "a2", reply, "Re: Atlas launch moved")
    answer = await talk.answer("who's still waiting on me?")
    assert "Dana" not in answer.text and answer.text.count("\n") == 2
    assert (await talk.answer("is Tom waiting on me?")).text.startswith(
        "Waiting on your reply, oldest first:\n1. **Tom"
    )
    assert (await talk.answer("is Sam waiting on me?")).text == "Sam is not waiting on you."
    summary = await talk.answer("summarize the first one")
    assert summary.text.startswith("**Re: Budget**")


@pytest.mark.servers("context")
async def test_nobody_waits_on_the_user_when_every_ask_was_answered(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put("raw.email", "a1", MAILBOX[2], "Re: Budget")
    answer = await conversation(connections).answer("who am I keeping waiting?")
    assert answer.text == "Nobody is waiting on you."
