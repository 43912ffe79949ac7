"""The Now list measured on a labelled mailbox: before (the page's old rule) and after (the ranker
with its attention budget), and what one correction does.

A mailbox is read as a first sync would: the Sent mail teaches the profile (the demo's VIPs set as
`make run` sets them), then every other message is parsed by the gmail server's parser and judged by
the rules engine as of the mailbox's "now", oldest first (so a sender's mail is counted as it
arrives), and scored by the ranker with its prior weights (`rank_mail`, as the mail feed does).
*Before*: a card for every mail signal not at low priority and not bulk or spam, uncapped (the page
drew up to 150). *After*: the ranker's `attention` set, and the `NOW_LIMIT` best of it (what the page
shows before "show more"). The correction check: for each sender with two or more mails in Now, one
"Not important" on the earliest, then is any later mail of theirs still in Now?
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.triage.mailbox import HELD_OUT, Labelled, Mailbox
from bench.triage.now_extras import follow_up_cards, meeting_cards
from mcp_servers.gmail.parsing import MessageParseError, parse_message
from orchestrator.demo.timeline import Timeline
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.now import NOW_LIMIT, in_now, now_score
from orchestrator.triage.ranker import THRESHOLD
from orchestrator.triage.ranker_book import StoredRanker, count_sender, rank_mail

__all__ = ["Judged", "judge_mailbox", "now_figures", "read_mailbox"]


@dataclass
class Judged:
    item: Labelled
    email: Email
    priority: str
    category: str
    summary: str
    reasons: list[str]
    deadlines: list[datetime]
    asks: bool
    score: float
    attention: bool
    features: dict[str, float] = field(default_factory=dict)
    keys: object = None
    shown: bool = False  # among the NOW_LIMIT best
    kind: str = "email"  # or a card beside mail: "meeting", "follow_up" (`bench/triage/now_extras.py`)
    shown_mail_only: bool = False  # among the NOW_LIMIT best mail: Now before it held anything else

    @property
    def before(self) -> bool:
        return self.kind == "email" and self.priority != "low" and self.category not in ("bulk", "spam")


def _email(item: Labelled) -> Email | None:
    try:
        message = parse_message(item.raw, id=item.id, labels=list(item.labels))
    except MessageParseError:
        return None
    email = Email.model_validate(message.model_dump(mode="json"))
    return email.model_copy(update={"date": item.date_override}) if item.date_override else email


def read_mailbox(box: Mailbox) -> tuple[list[tuple[Labelled, Email]], UserProfile, int]:
    """The mailbox's messages parsed, oldest first; the profile its Sent mail taught (with the box's
    VIPs); and how many failed to parse."""
    parsed = [(item, _email(item)) for item in box.messages]
    failures = sum(email is None for _, email in parsed)
    mails = sorted(((i, e) for i, e in parsed if e is not None), key=lambda pair: pair[1].date)
    profile = UserProfile(addresses={box.user}, vips=set(box.vips))
    for item, email in mails:
        if item.label == "sent" and email.in_sent:
            profile.learn_from_sent(email)
    return mails, profile, failures


def judge_mailbox(box: Mailbox) -> tuple[list[Judged], int]:
    """Every labelled message judged and ranked; and how many failed to parse."""
    mails, profile, failures = read_mailbox(box)
    state = StoredRanker()
    judged = []
    for item, email in mails:
        if item.label == "sent":
            continue
        trust = sender_trust(email, profile)
        verdict = triage_email(email, profile, box.now)
        count_sender(state, email.id, trust.address)
        ranking = rank_mail(state, email, profile, trust, verdict.model_dump(), box.now)
        judged.append(
            Judged(item, email, verdict.priority, verdict.category, verdict.summary, verdict.reasons,
                   [d.due for d in verdict.deadlines], bool(verdict.action_items), ranking.score,
                   ranking.attention, ranking.features, ranking.keys)
        )  # fmt: skip
    judged += _extras(box, mails, profile)
    ranked = sorted((j for j in judged if j.attention), key=lambda j: -j.score)
    for best in ranked[:NOW_LIMIT]:
        best.shown = True
    for best in [j for j in ranked if j.kind == "email"][:NOW_LIMIT]:
        best.shown_mail_only = True
    return judged, failures


def _extras(box: Mailbox, mails: list[tuple[Labelled, Email]], profile: UserProfile) -> list[Judged]:
    """The mailbox's meetings and follow-ups, judged by the Now rule as of the mailbox's now."""
    assert isinstance(box.now.tzinfo, ZoneInfo)
    timeline = Timeline(box.now, box.now.tzinfo, box.seed)
    cards = [*meeting_cards(box, timeline), *follow_up_cards(mails, profile, box.now)]
    return [
        Judged(item, email, signal["priority"], signal["category"], signal["summary"], [], [], False,
               now_score(signal), in_now(signal, box.now), kind=signal["kind"])
        for item, email, signal in cards
    ]  # fmt: skip


def _pr(cards: list[Judged], needing: list[Judged]) -> dict:
    hits = sum(j.item.label == "needs-attention" for j in cards)
    return {
        "cards": len(cards),
        "needs_attention_cards": hits,
        "precision_pct": round(100 * hits / len(cards), 1) if cards else None,
        "recall_pct": round(100 * sum(j in cards for j in needing) / len(needing), 1) if needing else None,
        "spam_cards": sum(j.item.label == "spam" for j in cards),
        "bulk_cards": sum(j.item.label == "bulk" for j in cards),
    }


def _deadlines(judged: list[Judged]) -> dict:
    expected = [j for j in judged if j.item.deadline]
    found = sum(any(abs((d.date() - j.item.deadline).days) <= 1 for d in j.deadlines) for j in expected)
    unexpected = [j for j in judged if j.deadlines and not j.item.deadline]
    return {
        "expected": len(expected),
        "found_within_a_day": found,
        "recall_pct": round(100 * found / len(expected), 1) if expected else None,
        "found_on_mail_with_none_expected": len(unexpected),
        "unexpected_examples": [f"{j.item.family}: {j.email.subject[:60]}" for j in unexpected[:5]],
    }


def correction_check(judged: list[Judged], now: datetime) -> dict:
    """One "Not important" on a sender's earliest Now mail: are their later mails out of Now?"""
    by_sender: dict[str, list[Judged]] = {}
    for j in judged:
        if j.attention and j.keys is not None:
            by_sender.setdefault(j.keys.sender, []).append(j)
    senders = stayed = 0
    for mails in by_sender.values():
        if len(mails) < 2:
            continue
        state = StoredRanker()
        first, *later = sorted(mails, key=lambda j: j.email.date)
        state.ranker.correct("not_important", first.features, first.keys)
        senders += 1
        stayed += any(state.ranker.score(j.features, j.keys) > THRESHOLD for j in later)
    return {"senders_corrected": senders, "later_mail_still_in_now": stayed}


def now_figures(boxes: list[tuple[Mailbox, list[Judged], int]], examples: int) -> dict:
    """The figures over several mailboxes (each with its own Now)."""
    judged = [j for _, js, _ in boxes for j in js]
    needing = [j for j in judged if j.item.label == "needs-attention"]
    per_box = [{"seed": box.seed, "now": box.now.isoformat(), "now_cards": sum(j.shown for j in js),
                "attention": sum(j.attention for j in js), "before_cards": sum(j.before for j in js)}
               for box, js, _ in boxes]  # fmt: skip
    held = [j for j in judged if j.item.family in HELD_OUT]
    misses = [j for j in needing if not j.shown]
    wrong = [j for j in judged if j.shown and j.item.label != "needs-attention"]
    return {
        "mailboxes": len(boxes),
        "messages": len(judged) + sum(f for _, _, f in boxes),
        "labels": dict(Counter(j.item.label for j in judged)),
        "parse_failures": sum(f for _, _, f in boxes),
        "before": _pr([j for j in judged if j.before], needing),
        "after_attention": _pr([j for j in judged if j.attention], needing),
        "after_now_mail_only": _pr([j for j in judged if j.shown_mail_only], needing),
        "after_now": _pr([j for j in judged if j.shown], needing),
        "beside_mail": _beside_mail(judged),
        "held_out_families": {
            family: {
                "messages": n,
                "in_now": sum(j.shown for j in held if j.item.family == family),
                "before_in_now": sum(j.before for j in held if j.item.family == family),
            }
            for family, n in Counter(j.item.family for j in held).items()
        },  # fmt: skip
        "deadlines": _deadlines(judged),
        "asks_found_pct": _asks_found([j for j in needing if j.kind == "email"]),
        "correction": _sum_checks([correction_check(js, box.now) for box, js, _ in boxes]),
        "per_mailbox": per_box,
        "misses": [_example(j) for j in misses[:examples]],
        "wrong_cards": [_example(j) for j in wrong[:examples]],
    }


def _asks_found(needing: list[Judged]) -> float | None:
    return round(100 * sum(j.asks for j in needing) / len(needing), 1) if needing else None


def _beside_mail(judged: list[Judged]) -> dict:
    """Per kind of card beside mail: how many, how many need the user, and where they landed."""
    found = {}
    for kind in ("meeting", "follow_up"):
        cards = [j for j in judged if j.kind == kind]
        needing = [j for j in cards if j.item.label == "needs-attention"]
        found[kind] = {
            "cards": len(cards),
            "needs_attention": len(needing),
            "needs_attention_in_now": sum(j.shown for j in needing),
            "others_in_now": sum(j.shown for j in cards if j.item.label != "needs-attention"),
        }
    return found


def _sum_checks(checks: list[dict]) -> dict:
    return {key: sum(check[key] for check in checks) for key in checks[0]} if checks else {}


def _example(j: Judged) -> str:
    present = [name for name, value in j.features.items() if value and name != "bias"]
    return (f"[{j.item.label}/{j.item.family}] {j.email.subject[:60]!r} {j.priority}/{j.category} "
            f"score {j.score:+.2f} features {present}")  # fmt: skip
