"""The mail feed scores every mail with the user's ranker, and a correction, kept in a real context
store, re-ranks the open mail at once and survives a restart; "Mark read" on a read-only mailbox
keeps the mail out of Now in Pepper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.signals import Signal
from orchestrator.triage.now import now_list
from orchestrator.triage.ranker import PRIOR
from orchestrator.triage.ranker_book import RANKER, RankerBook
from orchestrator.triage.read import mark_read

pytestmark = pytest.mark.anyio
ME = "me@example.org"
DANA = "dana@example.org"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def deliver(feed: MailFeed, items: ContextItems, id: str, sender: str, minutes: int, **fields) -> None:
    data = {
        "id": id,
        "thread_id": id,
        "from": {"name": sender.split("@")[0].title(), "email": sender},
        "to": [{"email": ME}],
        "date": (WHEN + timedelta(minutes=minutes)).isoformat(),
        "subject": f"Numbers {id}",
        "text": "Could you check the quarterly numbers before the review?",
        "labels": ["INBOX", "UNREAD"],
    } | fields
    seq = await items.put("raw.email", id, data)
    await feed.handle(ContextEvent(seq=seq, namespace="raw.email", id=id, op="store", at=WHEN))
    await feed.flush()


async def in_now(items: ContextItems) -> list[str]:
    shown, _ = now_list([item.data for item in await items.query(["signals.email"], limit=100)])
    return [signal["source_id"] for signal in shown]


def feed_for(items: ContextItems, ranker: RankerBook) -> MailFeed:
    return MailFeed(items, [ME], [], now=lambda: WHEN + timedelta(hours=1), ranker=ranker)


async def correspondent(items: ContextItems, feed: MailFeed) -> None:
    sent = {"from": {"email": ME}, "to": [{"email": DANA}], "labels": ["SENT"], "text": "Thanks!"}
    await deliver(feed, items, "sent-1", ME, -60, **sent)


async def dana_asks(connections) -> tuple[ContextItems, RankerBook]:
    """A store and a ranker in which Dana, whom the user wrote to, asks something (`m1`, in Now)."""
    items = ContextItems(connections["context"])
    book = RankerBook(items)
    feed = feed_for(items, book)
    await correspondent(items, feed)
    await deliver(feed, items, "m1", DANA, 0)
    return items, book


@pytest.mark.servers("context")
async def test_not_important_reranks_open_mail_at_once_and_survives_a_restart(connections) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items, RankerBook(items))
    await correspondent(items, feed)
    await deliver(feed, items, "m1", DANA, 0)
    await deliver(feed, items, "m2", "tom@example.org", 1, **{"from": {"email": "tom@example.org"}})
    stored = await items.get("signals.email", "m1")
    assert stored is not None and stored.data["attention"] is True and "now" in stored.tags
    assert stored.data["features"]["asks_known"] == 1.0 and stored.data["keys"]["sender"] == DANA
    assert await in_now(items) == ["m1"]  # Tom is a stranger: his ask is not the user's business yet

    said, moved = await feed.ranker.correct("not_important", WHEN, message_id="m1")
    assert moved >= 1 and "not important" in said  # the shared weights moved Tom's score too
    assert await in_now(items) == []

    restarted = feed_for(items, RankerBook(items))  # a new process reads the stored corrections
    await deliver(restarted, items, "m3", DANA, 5, subject="URGENT: numbers today")
    assert "m3" not in await in_now(items)
    kept = await items.get(*RANKER)
    assert kept is not None and kept.data["corrections"][0]["kind"] == "not_important"

    await restarted.ranker.correct("important", WHEN, sender=DANA)
    assert set(await in_now(items)) == {"m1", "m3"}


@pytest.mark.servers("context")
async def test_never_mutes_a_sender_by_address_and_a_bad_target_is_refused(connections) -> None:
    items, book = await dana_asks(connections)
    said, _ = await book.correct("never", WHEN, sender=DANA.upper())
    assert said.startswith(f"Muted {DANA}")
    assert await in_now(items) == []
    with pytest.raises(LookupError, match="no mail 'nope'"):
        await book.correct("important", WHEN, message_id="nope")
    with pytest.raises(ValueError, match="neither a mail id nor an address"):
        await book.correct("important", WHEN, sender="dana")


@pytest.mark.servers("context")
async def test_a_correction_reaches_now_s_mail_behind_a_thousand_signals_judged_after_it(connections) -> None:
    # After a first sync of years of mail the newest signals are old mail judged last: a correction
    # re-ranked the newest 1,000 and left Now's mail, judged first, where it was.
    items, book = await dana_asks(connections)
    old = Signal(kind="email", source_id="", summary="Weekly digest", priority="low", category="bulk")
    for start in range(0, 1200, 300):
        await items.put_many(
            [old.model_copy(update={"source_id": f"old-{n}"}).store_item() for n in range(start, start + 300)]
        )
    await book.correct("never", WHEN, sender=DANA)
    muted = await items.get("signals.email", "m1")
    assert muted is not None and muted.data["attention"] is False and "now" not in muted.tags


@pytest.mark.servers("context")
async def test_mark_read_without_a_writable_mailbox_keeps_the_mail_out_of_now_in_pepper(connections) -> None:
    items = ContextItems(connections["context"])
    book = RankerBook(items)
    feed = feed_for(items, book)
    await correspondent(items, feed)
    await deliver(feed, items, "m1", DANA, 0)
    assert await mark_read({}, items, book, "m1") == "pepper"
    assert await in_now(items) == []
    await deliver(feed_for(items, RankerBook(items)), items, "m1", DANA, 0)  # triaged again after a restart
    signal = await items.get("signals.email", "m1")
    assert signal is not None and signal.data["seen"] is True and signal.data["attention"] is False


@pytest.mark.servers("context")
async def test_a_damaged_or_unknown_stored_ranker_falls_back_to_the_prior(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put(*RANKER, {"version": 99, "ranker": {"weights": {"bias": 5.0}}})
    assert (await RankerBook(items).load()).ranker.weights == PRIOR
    await items.put(*RANKER, {"ranker": {"weights": "not a table"}})
    assert (await RankerBook(items).load()).ranker.weights == PRIOR


@pytest.mark.servers("context")
async def test_signals_stored_before_the_ranker_are_ranked_once_at_start(connections) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items, RankerBook(items))
    await correspondent(items, feed)
    raw = {"id": "old", "from": {"email": DANA}, "to": [{"email": ME}], "date": WHEN.isoformat(),
           "subject": "Numbers", "text": "Could you check the numbers today?", "labels": ["INBOX", "UNREAD"]}  # fmt: skip
    await items.put("raw.email", "old", raw)
    legacy = {
        "kind": "email",
        "source_id": "old",
        "priority": "normal",
        "category": "fyi",
        "summary": "Dana: Numbers",
    }
    await items.put(
        "signals.email", "old", legacy, tags=["normal", "fyi", "email"]
    )  # the stored format before
    assert await in_now(items) == ["old"]  # judged by the old rule meanwhile

    await feed.rank_unranked()
    ranked = await items.get("signals.email", "old")
    assert ranked is not None and ranked.data["keys"]["sender"] == DANA
    assert ranked.data["attention"] is True and ranked.data["why"]
