"""The per-user ranker scores mail from social, addressing and rules features, learns from one
correction at once, and never lets a correction lift a forged sender."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.now import NOW_LIMIT, in_now, now_list
from orchestrator.triage.ranker import PRIOR, THRESHOLD, Ranker, features_of, keys_of

SENT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ME = "me@example.org"


def email(**fields) -> Email:
    base = {
        "id": "m1",
        "from": {"name": "Dana Lee", "email": "dana@example.org"},
        "to": [{"email": ME}],
        "date": SENT,
        "subject": "Quarterly numbers",
        "text": "Could you check the quarterly numbers before the review?",
        "labels": ["INBOX", "UNREAD"],
    }
    return Email.model_validate(base | fields)


def profile(**fields) -> UserProfile:
    return UserProfile(addresses={ME}, **fields)


def scored(ranker: Ranker, mail: Email, user: UserProfile, received: int = 1) -> tuple[float, dict, object]:
    trust = sender_trust(mail, user)
    verdict = triage_email(mail, user).model_dump()
    features = features_of(mail, user, trust, verdict, received=received, stale=False, deadline_soon=False)
    keys = keys_of(mail, trust)
    return ranker.score(features, keys), features, keys


def test_ranker_puts_a_correspondents_question_in_now_and_a_strangers_out() -> None:
    ranker = Ranker()
    known = profile(sent_to={"dana@example.org": 3}, replied_to={"dana@example.org": 2})
    assert scored(ranker, email(), known)[0] > THRESHOLD
    stranger = email(**{"from": {"name": "Sales", "email": "rep@vendor.example"}})
    assert scored(ranker, stranger, profile())[0] < THRESHOLD


def test_ranker_ranks_a_thread_the_user_wrote_in_above_one_they_did_not() -> None:
    ranker = Ranker()
    user = profile(sent_to={"dana@example.org": 1})
    learned = profile(sent_to={"dana@example.org": 1})
    learned.learn_from_sent(
        Email.model_validate(
            {"id": "s1", "from": {"email": ME}, "to": [{"email": "dana@example.org"}], "date": SENT,
             "thread_id": "t1", "subject": "Quarterly numbers", "labels": ["SENT"]}
        )
    )  # fmt: skip
    mail = email(thread_id="t1")
    assert scored(ranker, mail, learned)[0] > scored(ranker, mail, user)[0]


def test_not_important_puts_the_senders_next_mail_out_of_now_at_once() -> None:
    ranker = Ranker()
    user = profile(sent_to={"dana@example.org": 3}, replied_to={"dana@example.org": 2})
    score, features, keys = scored(ranker, email(), user)
    assert score > THRESHOLD
    ranker.correct("not_important", features, keys)
    following = email(id="m2", subject="Numbers again", text="Can you look at the new numbers today?")
    assert scored(ranker, following, user)[0] < THRESHOLD
    other = email(**{"id": "m3", "from": {"name": "Tom", "email": "tom@example.org"}})
    tom = profile(sent_to={"tom@example.org": 3}, replied_to={"tom@example.org": 2})
    assert scored(ranker, other, tom)[0] > THRESHOLD  # one sender's correction is theirs alone


def test_important_lifts_a_strangers_mail_but_never_a_forged_from() -> None:
    ranker = Ranker()
    cold = email(**{"from": {"name": "Ann", "email": "ann@partner.example"}})
    score, features, keys = scored(ranker, cold, profile())
    assert score < THRESHOLD
    ranker.correct("important", features, keys)
    assert (
        scored(ranker, email(id="m2", **{"from": {"email": "ann@partner.example"}}), profile())[0] > THRESHOLD
    )

    forged = email(**{"from": {"name": "Me", "email": ME}})  # the user's own address, not from Sent
    score, features, keys = scored(ranker, forged, profile())
    ranker.correct("important", features, keys)
    assert not keys.believed
    assert scored(ranker, email(id="m4", **{"from": {"name": "Me", "email": ME}}), profile())[0] < THRESHOLD


def test_never_mutes_a_mailing_list_by_its_id_and_important_unmutes_it() -> None:
    ranker = Ranker()
    user = profile(sent_to={"dana@example.org": 3})
    listed = email(list_headers={"list_id": "<team.lists.example.org>"})
    _, features, keys = scored(ranker, listed, user)
    ranker.correct("never", features, keys)
    assert ranker.never == {"list:<team.lists.example.org>"}
    assert scored(ranker, listed, user)[0] < THRESHOLD
    assert scored(ranker, email(id="m2"), user)[0] > THRESHOLD  # Dana's own mail is not the list
    ranker.correct("important", features, keys)
    assert not ranker.never


def test_corrections_leave_the_bias_and_the_trust_features_alone() -> None:
    ranker = Ranker()
    _, features, keys = scored(ranker, email(), profile(sent_to={"dana@example.org": 1}))
    features = {**features, "suspicious": 1.0, "spam": 1.0}
    for _ in range(20):
        ranker.correct("important", features, keys)
    for name in ("bias", "suspicious", "spam"):
        assert ranker.weights[name] == PRIOR[name]


def test_a_sender_corrected_without_a_mail_moves_only_that_senders_weight() -> None:
    ranker = Ranker()
    _, _, keys = scored(ranker, email(), profile())
    ranker.correct("not_important", {}, keys)
    assert ranker.weights == PRIOR
    assert ranker.senders["dana@example.org"] < 0


def test_now_list_keeps_the_budget_best_first_and_counts_the_rest() -> None:
    signals = [
        {"kind": "email", "source_id": f"m{n}", "priority": "normal", "score": n / 20, "attention": True}
        for n in range(1, 21)
    ]
    signals += [
        {"kind": "email", "source_id": "muted", "score": 9.0, "attention": False},
        {"kind": "meeting", "source_id": "e1", "priority": "urgent"},
        {"kind": "email", "source_id": "old", "priority": "high", "category": "action"},  # before the ranker
    ]
    shown, more = now_list(signals)
    assert len(shown) == NOW_LIMIT and more == 6
    assert [s["source_id"] for s in shown[:3]] == ["old", "m20", "m19"]
    assert not in_now({"kind": "email", "priority": "normal", "category": "bulk"})
