"""The mail feed teaches the user's content model from the Junk/Spam folder (the SPAM label),
over a real context store, before it triages the message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.triage.content import ContentCounts, seed_model
from orchestrator.triage.content_book import CONTENT_MODEL, ContentBook

pytestmark = pytest.mark.anyio
ME = "me@example.org"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def store(items: ContextItems, id: str, labels: list[str]) -> ContextEvent:
    data = {
        "id": id,
        "from": {"email": "zed@zorblax.example"},
        "to": [{"email": ME}],
        "date": WHEN.isoformat(),
        "subject": "Zorblax hyperwidget digest",
        "text": "Zorblax hyperwidget digest: zorblax perks and the zorblax festival lineup.",
        "labels": labels,
    }
    seq = await items.put("raw.email", id, data)
    return ContextEvent(seq=seq, namespace="raw.email", id=id, op="store", at=WHEN)


@pytest.mark.servers("context")
async def test_mail_feed_learns_spam_from_the_spam_folder_before_triage(connections) -> None:
    items = ContextItems(connections["context"])
    book = ContentBook(items, seed_model().with_delta(ContentCounts()))
    feed = MailFeed(items, [ME], [], now=lambda: WHEN, content=book)
    await feed.handle(await store(items, "inbox-1", ["INBOX", "UNREAD"]))
    await feed.flush()
    first = await items.get("signals.email", "inbox-1")
    assert first is not None and first.data["category"] == "action" or first.data["category"] == "fyi"
    assert await items.get(*CONTENT_MODEL) is None  # inbox mail teaches nothing

    await feed.handle(await store(items, "junk-1", ["SPAM"]))
    await feed.flush()
    stored = await items.get(*CONTENT_MODEL)
    assert stored is not None and stored.data["learned"]["junk-1"]["spam"] is True
    junk = await items.get("signals.email", "junk-1")
    assert junk is not None and junk.data["category"] == "spam"

    await feed.handle(await store(items, "inbox-2", ["INBOX", "UNREAD"]))
    await feed.flush()
    second = await items.get("signals.email", "inbox-2")
    assert second is not None and second.data["category"] == "spam"
    assert second.data["reasons"][0].startswith("looks like spam")
