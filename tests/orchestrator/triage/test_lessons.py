"""Corrections teach the content model, in a real context store: alike mail from other senders is
judged alike at once, the lesson survives a restart, a correction outranks the Junk folder, and no
correction bends the trust rules (a forged own address stays a stranger, urgency stays for known
senders). The stored format of before (format 1) is read from a file it wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.mail import Email
from orchestrator.feeds.mail_feed import POURING, RETRIAGE_SECONDS, MailFeed
from orchestrator.feeds.sender_trust import SenderTrust
from orchestrator.triage.content import ContentCounts, seed_model
from orchestrator.triage.content_book import CONTENT_MODEL, ContentBook, Learned, StoredCounts
from orchestrator.triage.lessons import HINT_WEIGHT, lesson_of
from orchestrator.triage.ranker_book import RankerBook

pytestmark = pytest.mark.anyio
ME = "me@example.org"
DANA = "dana@example.org"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FORMAT_1 = Path(__file__).parent / "data" / "content_model_v1.json"  # written by the format-1 code
JUNK = "Zorblax hyperwidget digest: zorblax perks, quintessa bonuses and the glimmerfax festival lineup."


def feed_for(items: ContextItems) -> MailFeed:
    book = ContentBook(items, seed_model().with_delta(ContentCounts()))
    return MailFeed(
        items, [ME], [], now=lambda: WHEN + timedelta(hours=1), content=book, ranker=RankerBook(items)
    )


async def deliver(feed: MailFeed, items: ContextItems, id: str, sender: str, **fields) -> None:
    data = {
        "id": id,
        "thread_id": id,
        "from": {"email": sender},
        "to": [{"email": ME}],
        "date": WHEN.isoformat(),
        "subject": "Zorblax hyperwidget digest",
        "text": JUNK,
        "labels": ["INBOX", "UNREAD"],
    } | fields
    seq = await items.put("raw.email", id, data)
    await feed.handle(ContextEvent(seq=seq, namespace="raw.email", id=id, op="store", at=WHEN))
    await feed.flush()


async def signal(items: ContextItems, id: str) -> dict:
    stored = await items.get("signals.email", id)
    assert stored is not None
    return stored.data


async def stored_email(items: ContextItems, id: str) -> Email:
    raw = await items.get("raw.email", id)
    assert raw is not None
    return Email.model_validate(raw.data)


@pytest.mark.servers("context")
async def test_never_on_a_strangers_junk_judges_alike_mail_of_other_senders_spam_at_once(connections) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    await deliver(feed, items, "a1", "zed@zorblax.example")
    await deliver(feed, items, "b1", "quinn@glimmer.example", subject="Your glimmerfax festival digest")
    assert (await signal(items, "b1"))["category"] != "spam"  # the seed has never seen these words
    before = feed.content.model.judge(await stored_email(items, "b1")).score

    said, moved = await feed.ranker.correct("never", WHEN, message_id="a1")
    assert "Muted" in said and moved >= 1
    b1 = await signal(items, "b1")
    assert (b1["category"], b1["priority"], b1["attention"]) == ("spam", "low", False)
    assert feed.content.model.judge(await stored_email(items, "b1")).score > before

    restarted = feed_for(items)  # a new process reads the lesson from the store
    await deliver(restarted, items, "c1", "ola@third.example", subject="Glimmerfax perks inside")
    assert (await signal(items, "c1"))["category"] == "spam"
    assert restarted.content.learned("a1") == Learned(spam=True, weight=3, by="correction")


@pytest.mark.servers("context")
async def test_important_on_junk_outranks_the_folder_and_not_important_on_a_contact_teaches_nothing(
    connections,
) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    await deliver(feed, items, "j1", "zed@zorblax.example", labels=["SPAM"])
    assert feed.content.learned("j1") == Learned(spam=True, weight=3, by="folder")
    await feed.ranker.correct("important", WHEN, message_id="j1")
    assert feed.content.learned("j1") == Learned(spam=False, weight=3, by="correction")
    await deliver(feed, items, "j1", "zed@zorblax.example", labels=["SPAM"])  # a replay of the page
    assert feed.content.learned("j1") == Learned(spam=False, weight=3, by="correction")

    sent = {"from": {"email": ME}, "to": [{"email": DANA}], "labels": ["SENT"], "text": "Thanks!"}
    await deliver(feed, items, "s1", ME, **sent)
    await deliver(feed, items, "d1", DANA, text="Could you check the quarterly numbers before the review?")
    counts = feed.content.model.delta.model_copy(deep=True)
    await feed.ranker.correct("not_important", WHEN, message_id="d1")
    await feed.ranker.correct("never", WHEN, sender=DANA)
    assert feed.content.model.delta == counts and feed.content.learned("d1") is None


@pytest.mark.servers("context")
async def test_no_correction_lifts_a_forged_own_address_or_a_strangers_urgency(connections) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    urgent = "URGENT: I need the signed contract back today, please reply now."
    await deliver(feed, items, "f1", ME, subject="URGENT contract", text=urgent)
    counts = feed.content.model.delta.model_copy(deep=True)
    await feed.ranker.correct("important", WHEN, message_id="f1")
    assert feed.content.model.delta == counts  # a forger's words are not taught as fine
    await deliver(feed, items, "f2", ME, subject="URGENT contract again", text=urgent)
    f2 = await signal(items, "f2")
    assert f2["priority"] in ("normal", "low") and f2["attention"] is False
    assert f2["features"]["suspicious"] == 1.0

    await deliver(feed, items, "x1", "newbie@stranger.example", subject="Contract", text=urgent)
    await feed.ranker.correct("important", WHEN, message_id="x1")
    assert feed.content.learned("x1") == Learned(spam=False, weight=3, by="correction")
    await deliver(feed, items, "x2", "newbie@stranger.example", subject="URGENT contract", text=urgent)
    assert (await signal(items, "x2"))["priority"] in ("normal", "low")  # urgency only from known senders


def test_lesson_of_each_correction() -> None:
    stranger, contact = SenderTrust(address="z@x.example"), SenderTrust(address=DANA, corresponded=True)
    forged = SenderTrust(address=ME, own_address=True)
    assert lesson_of("never", stranger) == (True, 3)
    assert lesson_of("not_important", stranger) == (True, HINT_WEIGHT)
    assert lesson_of("important", stranger) == (False, 3)
    assert lesson_of("not_important", contact) is None and lesson_of("never", contact) is None
    assert lesson_of("important", forged) is None and lesson_of("never", forged) == (True, 3)


@pytest.mark.servers("context")
async def test_counts_stored_in_format_1_are_read_and_kept_learning(connections) -> None:
    items = ContextItems(connections["context"])
    old = json.loads(FORMAT_1.read_text())
    assert "version" not in old and old["learned"] == {"junk-1": True, "junk-2": False}
    await items.put(*CONTENT_MODEL, old)
    feed = feed_for(items)
    model = await feed.content.load()
    assert model.delta == StoredCounts.model_validate(old).delta and model.delta.spam_docs == 3
    assert feed.content.learned("junk-1") == Learned(spam=True, weight=3, by="folder")
    await deliver(feed, items, "junk-1", "zed@zorblax.example", labels=["INBOX"])  # taken out of Junk
    assert feed.content.learned("junk-1") == Learned(spam=False, weight=3, by="folder")
    stored = await items.get(*CONTENT_MODEL)
    assert stored is not None and stored.data["version"] == 2
    assert stored.data["delta"]["spam_docs"] == 0 and stored.data["delta"]["ham_docs"] == 6


@pytest.mark.servers("context")
async def test_junk_folder_mail_of_a_first_sync_rejudges_strangers_mail_triaged_before_it(
    connections,
) -> None:
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    await deliver(feed, items, "i1", "quinn@glimmer.example", subject="Your glimmerfax festival digest")
    assert (await signal(items, "i1"))["category"] != "spam"
    for n in range(2):  # the Junk folder comes after the inbox in the sync
        await deliver(feed, items, f"j{n}", f"zed{n}@zorblax.example", labels=["SPAM"])
    assert (await signal(items, "i1"))["category"] == "spam"
    stored = await items.get(*CONTENT_MODEL)
    assert stored is not None and set(stored.data["learned"]) == {"j0", "j1"}


@pytest.mark.servers("context")
async def test_while_mail_pours_in_new_mail_does_not_rejudge_strangers_before_their_time(connections) -> None:
    """A burst's lessons are applied at most every REJUDGE_SECONDS, also when the flush is new
    mail's (one message: it used to rejudge 1,000 signals each time, ahead of the next new mail)."""
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    rejudged = []
    rejudge = feed.rejudge_strangers

    async def counted() -> int:
        rejudged.append(await rejudge())
        return rejudged[-1]

    feed.rejudge_strangers = counted  # type: ignore[method-assign]
    await deliver(feed, items, "i1", "quinn@glimmer.example", subject="Your glimmerfax festival digest")
    feed._page_events = POURING  # a first sync's page: mail pours in from now on
    await deliver(feed, items, "j0", "zed0@zorblax.example", labels=["SPAM"])
    assert rejudged == [1] and (await signal(items, "i1"))["category"] == "spam"
    await deliver(feed, items, "j1", "zed1@zorblax.example", labels=["SPAM"])  # new mail's flush
    assert rejudged == [1]  # its lesson waits for `beside`, REJUDGE_SECONDS after the last rejudge


@pytest.mark.servers("context")
async def test_while_mail_pours_in_new_correspondents_are_ranked_again_at_most_every_retriage_seconds(
    connections,
) -> None:
    """A first sync's pages of sent mail each made someone a correspondent, and each ranked their
    mail again at once (a query, a read and a write per page: a tenth of a sync's calls); while
    mail pours in that waits RETRIAGE_SECONDS after the last time, and `beside` does the rest."""
    items = ContextItems(connections["context"])
    feed = feed_for(items)
    retriaged: list[set[str]] = []
    retriage = feed._retriage

    async def counted(senders: set[str]) -> None:
        retriaged.append(set(senders))
        await retriage(senders)

    feed._retriage = counted  # type: ignore[method-assign]
    sent = {"from": {"email": ME}, "labels": ["SENT"], "subject": "Beacon notes", "text": "Notes attached."}
    feed._page_events = POURING
    await deliver(feed, items, "s1", ME, **sent, to=[{"email": DANA}])
    assert retriaged == [{DANA}]  # the first time goes at once
    feed._page_events = POURING
    await deliver(feed, items, "s2", ME, **sent, to=[{"email": "erin@example.org"}])
    feed._page_events = POURING
    await deliver(feed, items, "s3", ME, **sent, to=[{"email": "fay@example.org"}])
    assert retriaged == [{DANA}]  # within RETRIAGE_SECONDS of the last: kept for later
    feed._retriaged_at -= RETRIAGE_SECONDS  # that time has passed
    with anyio.move_on_after(3):
        await feed.beside()
    assert retriaged == [{DANA}, {"erin@example.org", "fay@example.org"}]
    await deliver(feed, items, "s4", ME, **sent, to=[{"email": "gil@example.org"}])  # new mail, quiet
    assert len(retriaged) == 2, "mail still counts as pouring for a while after the last burst"
