"""The content model on mail written here (never the corpus): the shipped seed, its reasons, what the
rules triage does with its verdict, learning at once, and the user's counts kept in the real store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.content import SEED_PATH, ContentCounts, ContentModel, seed_model
from orchestrator.triage.content_book import CONTENT_MODEL, ContentBook
from orchestrator.triage.content_features import features

ME = "me@example.org"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PILLS = (
    "CHEAP MEDS ONLINE!!! Buy viagra and cialis at 80% OFF. No prescription needed. Order now at "
    "http://192.168.7.1/pharmacy and get FREE shipping! Limited time offer, click here to order. "
    "Satisfaction guaranteed or your money back! $19.99 only! To be removed from our mailing list, "
    "click here."
)
MEETING = (
    "Hi, I went through the patch you sent yesterday. The locking change looks right to me, but the "
    "test for the retry path still fails on my machine with the same traceback as before. Could we "
    "look at it together after lunch? I'll bring the logs."
)


def mail(text: str, subject: str, sender: str = "stranger@example.net", id: str = "m1", **fields) -> Email:
    data = {"id": id, "from": {"email": sender}, "to": [{"email": ME}], "date": WHEN.isoformat()}
    return Email.model_validate(
        data | {"subject": subject, "text": text, "labels": ["INBOX", "UNREAD"]} | fields
    )


def user(**fields) -> UserProfile:
    return UserProfile(addresses={ME}, **fields)


def test_seed_model_loads_from_the_shipped_file_and_is_small() -> None:
    assert SEED_PATH.stat().st_size < 300_000
    model = seed_model()
    assert model.seed.spam_docs > 0 and model.seed.ham_docs > 0
    assert len(model.seed.tokens) > 1000
    assert model is seed_model()  # read once


def test_obvious_spam_is_spam_with_its_words_as_reasons() -> None:
    verdict = seed_model().judge(mail(PILLS, "Cheap meds, 80% off!!!"))
    assert verdict.spam and verdict.bulk and verdict.spam_probability > 0.99
    assert verdict.top_features
    assert verdict.reason().startswith("looks like spam")


def test_a_colleagues_note_is_not_spam() -> None:
    verdict = seed_model().judge(mail(MEETING, "Re: the retry patch", in_reply_to="<x@example.org>"))
    assert not verdict.spam
    assert verdict.score < 0


def test_rules_triage_puts_a_strangers_spam_low_in_the_spam_category() -> None:
    verdict = triage_email(mail(PILLS, "Cheap meds, 80% off!!!"), user())
    assert (verdict.priority, verdict.category) == ("low", "spam")
    assert verdict.reasons[0].startswith("looks like spam")


def test_content_alone_never_puts_a_correspondents_mail_in_spam() -> None:
    profile = user(sent_to={"friend@example.net": 3})
    verdict = triage_email(mail(PILLS, "Cheap meds, 80% off!!!", sender="friend@example.net"), profile)
    assert verdict.category != "spam"
    assert verdict.priority != "low"


def test_learn_changes_the_verdict_at_once() -> None:
    model = seed_model().with_delta(ContentCounts())
    newsletter = (
        "Zorblax quarterly gadget digest: the zorblax hyperwidget returns, zorblax membership perks, "
        "and the zorblax festival lineup."
    )
    first = mail(newsletter, "Zorblax hyperwidget digest", sender="news@zorblax.example")
    assert not model.judge(first).spam
    model.learn(first, is_spam=True)
    again = mail(newsletter, "Zorblax hyperwidget digest", sender="news@zorblax.example", id="m2")
    assert model.judge(again).spam
    assert seed_model().delta.spam_docs == 0  # the shared seed is untouched


def test_learning_ham_lowers_the_score_at_once() -> None:
    model = seed_model().with_delta(ContentCounts())
    offer = mail(PILLS, "Cheap meds, 80% off!!!")
    before = model.log_odds(offer)  # uncapped: `judge` stops at SCORE_LIMIT
    model.learn(mail(PILLS, "Cheap meds, 80% off!!!", id="ham"), is_spam=False)
    assert model.log_odds(offer) < before


def test_an_email_stored_before_the_new_fields_is_scored() -> None:
    old = Email.model_validate(
        {"id": "old", "from": {"email": "a@example.net"}, "date": WHEN.isoformat(), "subject": "hello"}
    )
    assert old.reply_to == [] and old.attachments == []
    assert "h:attachments:0" in features(old)
    seed_model().judge(old)


def test_features_describe_headers_and_links() -> None:
    found = features(
        mail(
            PILLS,
            "BUY NOW",
            sender="x123@mail-deal-s.example",
            reply_to=[{"email": "y@elsewhere.example"}],
            list_headers={"list_id": "<deals.example>"},
            authentication={"spf": "softfail"},
        )
    )
    expected = {"h:subject-all-caps", "h:link-to-ip", "h:from-local-digits", "h:list-id", "h:spf:softfail"}
    assert expected <= found
    assert "h:reply-to-elsewhere" in found and "subj:buy" in found


def test_a_damaged_model_file_says_how_to_rebuild_it(tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="train_seed.py"):
        ContentModel.load(broken)


@pytest.mark.anyio
@pytest.mark.servers("context")
async def test_content_book_keeps_the_users_counts_in_the_store(connections) -> None:
    items = ContextItems(connections["context"])
    junk = mail("Zorblax hyperwidget digest, zorblax perks.", "Zorblax digest", labels=["SPAM"], id="j1")
    book = ContentBook(items, seed_model().with_delta(ContentCounts()))
    assert await book.learn_from_labels(junk)
    assert not await book.learn_from_labels(junk)  # a replay is not counted twice
    assert not await book.learn_from_labels(mail(MEETING, "patch", id="inbox1"))
    assert await items.get(*CONTENT_MODEL) is None  # the feed saves once per page
    assert await book.save() and not await book.save()
    stored = await items.get(*CONTENT_MODEL)
    assert stored is not None and stored.data["learned"] == {
        "j1": {"spam": True, "weight": 3, "by": "folder"}
    }
    fresh = await ContentBook(items, seed_model().with_delta(ContentCounts())).load()
    assert fresh.delta.spam_docs == book.model.delta.spam_docs > 0


def test_list_mail_that_reads_like_spam_stays_bulk_and_says_so() -> None:
    offer = mail(
        PILLS, "Cheap meds, 80% off!!!", list_headers={"list_unsubscribe": "<mailto:u@deals.example>"}
    )
    verdict = triage_email(offer, user())
    assert (verdict.priority, verdict.category) == ("low", "bulk")
    assert any(reason.startswith("looks like spam") for reason in verdict.reasons)


def test_mail_the_provider_filed_as_spam_is_spam_unless_from_a_correspondent() -> None:
    junk = mail(MEETING, "Re: the retry patch", labels=["SPAM"])
    verdict = triage_email(junk, user())
    assert (verdict.priority, verdict.category) == ("low", "spam")
    assert verdict.reasons[0] == "the mail provider filed it as spam"
    assert triage_email(junk, user(sent_to={"stranger@example.net": 1})).category != "spam"


@pytest.mark.anyio
@pytest.mark.servers("context")
async def test_content_book_learns_ham_when_mail_leaves_the_spam_folder(connections) -> None:
    items = ContextItems(connections["context"])
    book = ContentBook(items, seed_model().with_delta(ContentCounts()))
    assert await book.learn_from_labels(mail("Zorblax digest, zorblax perks.", "Zorblax", labels=["SPAM"]))
    rescued = mail("Zorblax digest, zorblax perks.", "Zorblax", labels=["INBOX"])
    assert await book.learn_from_labels(rescued)
    assert not await book.learn_from_labels(rescued)
    delta = book.model.delta
    assert (delta.spam_docs, delta.ham_docs) == (0, 3)
    assert delta.tokens["subj:zorblax"] == [0, 3]
    await book.save()
    stored = await items.get(*CONTENT_MODEL)
    assert stored is not None and stored.data["learned"] == {
        "m1": {"spam": False, "weight": 3, "by": "folder"}
    }
