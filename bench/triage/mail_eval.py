"""Triage of one public message as Pepper would see it on arrival, and the figures over many.

Each raw message goes through the gmail server's own parser (`parse_message`, what `get_message`
returns), is read back as the ingest bridge stores it (the message's JSON as `raw.email` data, read
by the feeds as an `Email`), and is judged by a `TriageEngine` with "now" set to its own Date and
the labels of new mail (INBOX, UNREAD). The user is new: their own addresses are known (the corpus
owner's anonymised ones), no correspondents, no VIPs, no projects. A message counts as in Now by the
web UI's rule (`web/static/ui.js` `renderNow`, default view): every email signal except those at low
priority or in the bulk or spam category.
"""

from __future__ import annotations

import email
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from html.parser import HTMLParser

import anyio

from bench.triage.summary_checks import summary_flaw
from mcp_servers.gmail.parsing import MessageParseError, parse_message
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_llm import TriageEngine

__all__ = [
    "OWNER_ADDRESSES",
    "PRIORITIES",
    "Outcome",
    "evaluate",
    "examples",
    "figures",
    "has_visible_text",
    "in_now",
    "judge",
    "measure",
    "new_user_profile",
]

PRIORITIES = ("urgent", "high", "normal", "low")
ARRIVED = ["INBOX", "UNREAD"]
# The corpus owner's addresses as anonymised in the corpus (To and Delivered-To of the easy ham).
OWNER_ADDRESSES = frozenset(
    {
        "yyyy@spamassassin.taint.org",
        "zzzz@spamassassin.taint.org",
        "yyyy@netnoteinc.com",
        "zzzz@netnoteinc.com",
        "jm@netnoteinc.com",
        "jm@jmason.org",
    }
)


def new_user_profile(addresses: Iterable[str] = OWNER_ADDRESSES) -> UserProfile:
    """A user who just set Pepper up: their addresses, and nothing learned yet."""
    return UserProfile(addresses={address.lower() for address in addresses})


def in_now(priority: str, category: str) -> bool:
    """Whether the UI's Now list shows an email signal (low priority, bulk and spam are hidden by default)."""
    return priority != "low" and category not in ("bulk", "spam")


@dataclass
class Outcome:
    """What happened to one message."""

    id: str
    label: str  # "ham" | "spam"
    parse_error: str | None = None
    text_lost: str | None = None  # where the text went when it went missing: quoted | signature | nowhere
    summary_flaw: str | None = None  # how the summary reads wrong (bench/triage/summary_checks.py)
    priority: str | None = None
    category: str | None = None
    deadlines: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    summary: str = ""
    parse_seconds: float = 0.0
    triage_seconds: float = 0.0

    @property
    def in_now(self) -> bool:
        return self.priority is not None and in_now(self.priority, self.category or "")


async def judge(id: str, label: str, raw: bytes, engine: TriageEngine, profile: UserProfile) -> Outcome:
    """Parse `raw` with the gmail server's parser and triage it as if it had just arrived."""
    outcome = Outcome(id=id, label=label)
    started = time.perf_counter()
    try:
        message = parse_message(raw, id=id, labels=list(ARRIVED))
    except MessageParseError as exc:
        outcome.parse_error = exc.reason
        return outcome
    stored = Email.model_validate(message.model_dump(mode="json"))
    outcome.parse_seconds = time.perf_counter() - started
    if not message.text.strip() and has_visible_text(raw):
        outcome.text_lost = (
            "quoted" if message.quoted.strip() else "signature" if message.signature.strip() else "nowhere"
        )
    started = time.perf_counter()
    verdict = await engine.triage(stored, profile, stored.date)
    outcome.triage_seconds = time.perf_counter() - started
    outcome.priority, outcome.category = verdict.priority, verdict.category
    outcome.deadlines = [f"{d.phrase} -> {d.due:%Y-%m-%d %H:%M}" for d in verdict.deadlines]
    outcome.reasons, outcome.summary = list(verdict.reasons), verdict.summary
    outcome.summary_flaw = summary_flaw(verdict.summary, stored.text)
    return outcome


def has_visible_text(raw: bytes) -> bool:
    """Whether a non-attachment text/plain or text/html part holds non-blank text (read here with
    the standard library alone, independently of the parser under test)."""
    for part in email.message_from_bytes(raw).walk():
        if part.get_content_type() not in ("text/plain", "text/html"):
            continue
        if str(part.get("Content-Disposition", "")).split(";")[0].strip().lower() == "attachment":
            continue
        text = _decoded(part)
        if part.get_content_type() == "text/html":
            text = _html_visible_text(text)
        if text.strip():
            return True
    return False


def _decoded(part: MimeMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "latin-1", errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("latin-1")


class _VisibleText(HTMLParser):
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN and self.hidden > 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def _html_visible_text(markup: str) -> str:
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.chunks)


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _label_figures(outcomes: list[Outcome]) -> dict:
    judged = [o for o in outcomes if o.priority is not None]
    priorities = Counter(o.priority for o in judged)
    total = len(outcomes)
    normal_up = sum(priorities[p] for p in ("urgent", "high", "normal"))
    bulk_or_low = sum(1 for o in judged if o.category == "bulk" or o.priority == "low")
    return {
        "messages": total,
        "priority": {p: priorities[p] for p in PRIORITIES},
        "urgent_or_high": priorities["urgent"] + priorities["high"],
        "normal_or_above": normal_up,
        "normal_or_above_pct": _percent(normal_up, total),
        "bulk": sum(1 for o in judged if o.category == "bulk"),
        "marked_spam": sum(1 for o in judged if o.category == "spam"),
        "bulk_or_low": bulk_or_low,
        "bulk_or_low_pct": _percent(bulk_or_low, total),
        "in_now": sum(1 for o in judged if o.in_now),
        "in_now_pct": _percent(sum(1 for o in judged if o.in_now), total),
        "with_deadline": sum(1 for o in judged if o.deadlines),
        "deadlines": sum(len(o.deadlines) for o in judged),
        "parse_failures": total - len(judged),
        "text_lost": sum(1 for o in judged if o.text_lost),
        "text_lost_where": dict(Counter(o.text_lost for o in judged if o.text_lost)),
        "summary_flaws": sum(1 for o in judged if o.summary_flaw),
        "summary_flaws_kind": dict(Counter(o.summary_flaw for o in judged if o.summary_flaw)),
    }


def figures(outcomes: list[Outcome]) -> dict:
    """The evaluation's figures; percentages are of every message of the label (a parse failure
    counts as neither surfaced nor hidden)."""
    by_label = {label: [o for o in outcomes if o.label == label] for label in ("ham", "spam")}
    result = {label: _label_figures(group) for label, group in by_label.items()}
    cards = result["ham"]["in_now"] + result["spam"]["in_now"]
    result["now"] = {
        "cards": cards,
        "spam_cards": result["spam"]["in_now"],
        "spam_share_pct": _percent(result["spam"]["in_now"], cards),
    }
    judged = [o for o in outcomes if o.priority is not None]
    parse_total = sum(o.parse_seconds for o in judged)
    triage_total = sum(o.triage_seconds for o in judged)
    # LLMTriage keeps the rules verdict, saying so in its reasons, when the model fails twice
    result["fallbacks_to_rules"] = sum(any(r.startswith("rules used:") for r in o.reasons) for o in judged)
    result["speed"] = {
        "parse_ms_per_message": round(1000 * parse_total / len(judged), 2) if judged else 0.0,
        "triage_ms_per_message": round(1000 * triage_total / len(judged), 2) if judged else 0.0,
    }
    return result


async def evaluate(
    messages: Iterable[tuple[str, str, bytes]],
    engine: TriageEngine,
    profile: UserProfile,
    concurrency: int = 1,
) -> list[Outcome]:
    """Judge every (id, label, raw) message, `concurrency` at a time, in the given order."""
    todo = list(messages)
    outcomes: list[Outcome | None] = [None] * len(todo)
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(index: int, id: str, label: str, raw: bytes) -> None:
        async with limiter:
            outcomes[index] = await judge(id, label, raw, engine, profile)

    if concurrency == 1:  # the rules engine is CPU-bound: no tasks to schedule
        return [await judge(id, label, raw, engine, profile) for id, label, raw in todo]
    async with anyio.create_task_group() as group:
        for index, (id, label, raw) in enumerate(todo):
            group.start_soon(one, index, id, label, raw)
    return [outcome for outcome in outcomes if outcome is not None]


async def measure(
    messages: list[tuple[str, str, bytes]], engine: TriageEngine, concurrency: int, shown: int
) -> dict:
    """`figures` for (id, label, raw) messages judged for a new user, with the wall time and the
    `shown` first messages behind each bad figure."""
    started = time.perf_counter()
    outcomes = await evaluate(messages, engine, new_user_profile(), concurrency)
    elapsed = time.perf_counter() - started
    result = figures(outcomes)
    result["speed"] |= {
        "seconds": round(elapsed, 1),
        "messages_per_second": round(len(outcomes) / elapsed, 1),
    }
    result["examples"] = examples(outcomes, shown)
    return result


def examples(outcomes: list[Outcome], limit: int) -> dict[str, list[dict]]:
    """The messages behind the worst figures, for reading (dev split only)."""

    def row(outcome: Outcome) -> dict:
        return {
            "id": outcome.id,
            "priority": outcome.priority,
            "category": outcome.category,
            "summary": outcome.summary[:120],
            "reasons": outcome.reasons,
            "deadlines": outcome.deadlines,
            "text_lost": outcome.text_lost,
            "summary_flaw": outcome.summary_flaw,
            "parse_error": outcome.parse_error,
        }

    spam = [o for o in outcomes if o.label == "spam"]
    return {
        "spam_urgent_or_high": [row(o) for o in spam if o.priority in ("urgent", "high")][:limit],
        "spam_with_deadline": [row(o) for o in spam if o.deadlines][:limit],
        "spam_in_now": [row(o) for o in spam if o.in_now][:limit],
        "text_lost": [row(o) for o in outcomes if o.text_lost][:limit],
        "summary_flaws": [row(o) for o in outcomes if o.summary_flaw][:limit],
        "parse_failures": [row(o) for o in outcomes if o.parse_error][:limit],
    }
