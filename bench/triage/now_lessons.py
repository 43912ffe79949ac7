"""After N spam corrections, is alike spam from *other* senders judged spammier, and does it leave Now?

Per mailbox, the content model is first made blind to the mailbox's own corpus spam (the seed was
built from all of `spam-1`: its counts for those messages are taken back, so the spam here is spam
the model has not seen). The user then corrects N of that spam (`kind`: "never" or "not_important",
taught as `orchestrator.triage.lessons` teaches), picking the N the blind model finds least spammy,
from N different senders: the ones most likely to be in front of them. Measured before and after on
the rest of the mailbox's spam from other senders: its mean log-odds of spam (uncapped; higher: spammier), how
many the model calls spam, its mean ranker score (lower: further from Now) and how many ask for a
place in Now; also on the most alike of it (for each corrected message, the other sender's spam
sharing the most features with it); and on everything else from strangers (the cost: mail of the
mailbox that is not spam but now called spam by the model, or put in the spam category by the
triage, where list mail stays "bulk" whatever the model says; and needs-attention mail that left Now).
"""

from __future__ import annotations

from statistics import mean

from bench.triage.mailbox import Mailbox
from bench.triage.now_eval import read_mailbox
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.content import ContentCounts, ContentModel, seed_model
from orchestrator.triage.content_features import features
from orchestrator.triage.lessons import lesson_of
from orchestrator.triage.ranker import CorrectionKind
from orchestrator.triage.ranker_book import StoredRanker, rank_mail

__all__ = ["blind_to", "spam_lessons", "summed"]

KEPT_SUMS = (
    "strangers_mail_not_spam_called_spam",
    "strangers_mail_not_spam_in_spam_category",
    "needs_attention_in_now",
)


def blind_to(model: ContentModel, emails: list[Email]) -> ContentModel:
    """`model` with the spam counts of `emails` taken back (as if trained without them)."""
    seed = model.seed.model_copy(deep=True)
    for email in emails:
        seed.spam_docs -= 1
        for token in features(email):
            counts = seed.tokens.get(token)
            if counts is not None and counts[0] > 0:
                counts[0] -= 1
    return ContentModel(seed, model.threshold, ContentCounts())


def spam_lessons(box: Mailbox, n: int, kind: CorrectionKind) -> dict:
    mails, profile, _ = read_mailbox(box)
    spam = [e for item, e in mails if item.family == "spamassassin"]
    model = blind_to(seed_model(), spam)
    order = sorted(spam, key=lambda e: (model.judge(e).score, e.id))
    corrected, senders = [], set()
    for email in order:
        sender = _sender(email)
        if sender not in senders and len(corrected) < n:
            corrected.append(email)
            senders.add(sender)
    others = [e for e in spam if _sender(e) not in senders]
    nearest = {max(others, key=lambda o, c=c: _overlap(c, o)).id for c in corrected} if others else set()
    alike = [e for e in others if e.id in nearest]
    rest = [(item, e) for item, e in mails if item.label not in ("sent", "spam") and not _known(e, profile)]
    before = _state(model, others, alike, rest, profile, box)
    for email in corrected:
        lesson = lesson_of(kind, sender_trust(email, profile))
        if lesson is not None:
            model.learn(email, *lesson)
    return {"kind": kind, "corrected": len(corrected), "other_senders_spam": len(others), "alike": len(alike),
            "before": before, "after": _state(model, others, alike, rest, profile, box)}  # fmt: skip


def _state(model, others, alike, rest, profile, box) -> dict:
    judged = {e.id: _judge(model, e, profile, box) for e in [*others, *(e for _, e in rest)]}
    return {
        "other_senders": _summary([judged[e.id] for e in others]),
        "alike": _summary([judged[e.id] for e in alike]),
        "strangers_mail_not_spam_called_spam": sum(judged[e.id][1] for _, e in rest),
        "strangers_mail_not_spam_in_spam_category": sum(judged[e.id][4] for _, e in rest),
        "needs_attention_in_now": sum(judged[e.id][3] for item, e in rest if item.label == "needs-attention"),
    }


def _judge(model: ContentModel, email: Email, profile: UserProfile, box: Mailbox) -> tuple:
    verdict = triage_email(email, profile, box.now, content=model).model_dump()
    ranking = rank_mail(StoredRanker(), email, profile, sender_trust(email, profile), verdict, box.now)
    spam_category = verdict["category"] == "spam"
    return model.log_odds(email), model.judge(email).spam, ranking.score, ranking.attention, spam_category


def _summary(rows: list[tuple]) -> dict:
    if not rows:
        return {"messages": 0}
    return {
        "messages": len(rows),
        "mean_spam_log_odds": round(mean(r[0] for r in rows), 2),
        "called_spam": sum(r[1] for r in rows),
        "mean_ranker_score": round(mean(r[2] for r in rows), 2),
        "in_now": sum(r[3] for r in rows),
    }


def _sender(email: Email) -> str:
    return email.sender.email.lower() if email.sender else ""


def _known(email: Email, profile: UserProfile) -> bool:
    return sender_trust(email, profile).known


def _overlap(a: Email, b: Email) -> float:
    fa, fb = features(a), features(b)
    return len(fa & fb) / len(fa | fb) if fa | fb else 0.0


def summed(results: list[dict]) -> dict:
    """The per-mailbox results of one kind of correction added up (means weighted by messages)."""
    total: dict = {"kind": results[0]["kind"], "mailboxes": len(results)}
    for key in ("corrected", "other_senders_spam", "alike"):
        total[key] = sum(r[key] for r in results)
    for when in ("before", "after"):
        states = [r[when] for r in results]
        total[when] = {
            "other_senders": _added([s["other_senders"] for s in states]),
            "alike": _added([s["alike"] for s in states]),
            **{k: sum(s[k] for s in states) for k in KEPT_SUMS},
        }
    return total


def _added(rows: list[dict]) -> dict:
    rows = [r for r in rows if r["messages"]]
    messages = sum(r["messages"] for r in rows)
    if not messages:
        return {"messages": 0}
    weighted = {k: round(sum(r[k] * r["messages"] for r in rows) / messages, 2)
                for k in ("mean_spam_log_odds", "mean_ranker_score")}  # fmt: skip
    return {
        "messages": messages,
        **weighted,
        **{k: sum(r[k] for r in rows) for k in ("called_spam", "in_now")},
    }
