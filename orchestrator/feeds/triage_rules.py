"""The rules triage engine: what an email means for the user, with no language model.

Each rule looks at one thing and leaves a reason: bulk and mailing-list mail (List-Unsubscribe, List-Id,
Precedence, no-reply senders), the sender's importance learned from the user's own sent mail and
replies, VIPs, mail about one of the user's active projects (see `UserProfile.project_about`), deadlines (a cue such as "by", "due" or "deadline" followed by a date that `dateparser`
reads relative to the message's date), direct questions and requests to the user, and whether the user
is in To or only in Cc. The reasons travel with the verdict so the user can see why.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.summary import summarize

__all__ = ["Deadline", "Triage", "find_deadlines", "requests_in", "summarize", "triage_email"]

PRIORITIES = ("low", "normal", "high", "urgent")
BULK_PRECEDENCE = {"bulk", "list", "junk"}
# Local parts of automated senders: notifications, newsletters, receipts and billing.
NO_REPLY = re.compile(
    r"^(no-?reply|do-?not-?reply|notifications?|newsletters?|mailer-daemon|news|billing|invoices?|receipts?"
    r"|orders?|shop|store|marketing|updates|alerts?|digest)\b",
    re.I,
)
STALE = timedelta(days=7)
YOU = re.compile(r"\byou(r|rs)?\b", re.I)
URGENT_WORDS = re.compile(r"\b(urgent|asap|immediately|right away|emergency|critical)\b", re.I)
DEADLINE_CUE = re.compile(
    r"\b(?:by|before|due(?: on| by)?|deadline(?: is| of)?:?|until|no later than|not later than|expires?(?: on)?)"
    r"\s+((?:[\w:,./-]+\s*){1,5})",
    re.I,
)
END_OF = {"eod": "today 17:00", "end of day": "today 17:00", "cob": "today 17:00", "eow": "friday 17:00"}
REQUEST = re.compile(
    r"\b(can you|could you|would you|will you|please|let me know|do you|are you|kindly|need you to)\b", re.I
)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


class Deadline(BaseModel):
    phrase: str = Field(description="The words that gave the date, as written")
    due: datetime = Field(description="When it is due (the message's timezone)")


class Triage(BaseModel):
    """The verdict on one email."""

    priority: str = Field(description="low | normal | high | urgent")
    category: str = Field(description="action | fyi | bulk | personal")
    summary: str = Field(description="One line: who, what")
    action_items: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="Why: one entry per rule that fired")


def triage_email(email: Email, profile: UserProfile, now: datetime | None = None) -> Triage:
    """Judge one email for the user described by `profile`, as of `now` (default: its date)."""
    now = now or email.date
    people = _people(email, profile)
    if _is_bulk(email):
        reasons = ["bulk, automated or mailing-list mail"]
        return Triage(
            priority="low", category="bulk", summary=summarize(email), people=people, reasons=reasons
        )
    importance = profile.sender_importance(email.sender)
    addressed = any(profile.is_user(m) for m in email.to)
    requests = requests_in(email.text) if addressed else []
    deadlines = find_deadlines(email.text, email.date) + find_deadlines(email.subject, email.date)
    reasons: list[str] = []
    level = _level(email, profile, importance, addressed, requests, deadlines, now, reasons)
    category = "action" if requests or (deadlines and addressed) else _quiet_category(importance)
    return Triage(
        priority=PRIORITIES[level],
        category=category,
        summary=summarize(email),
        action_items=requests,
        deadlines=deadlines,
        people=people,
        reasons=reasons,
    )


def _level(
    email: Email,
    profile: UserProfile,
    importance: float,
    addressed: bool,
    requests: list[str],
    deadlines: list[Deadline],
    now: datetime,
    reasons: list[str],
) -> int:
    """0 low .. 3 urgent, explaining each step in `reasons`."""
    level = 1
    if importance >= 2:
        level = 2
        reasons.append("sender is a VIP" if importance >= 10 else "the user often writes to this sender")
    if requests:
        reasons.append("asks the user directly")
    upcoming = [d.due for d in deadlines if d.due >= now]
    if upcoming:
        soon = min(upcoming) - now <= timedelta(hours=48)
        level = max(level, 3 if soon and requests else 2 if soon or requests else level)
        reasons.append(f"deadline {min(upcoming):%a %d %b %H:%M}" + (" (within 48 h)" if soon else ""))
    elif deadlines:
        reasons.append("its deadline has passed")
    if (project := profile.project_about(email, now)) is not None:
        level = max(level, 2)  # high, no further: a project makes mail matter, not urgent
        reasons.append(f"about the active project {project.name}")
    if URGENT_WORDS.search(email.subject):
        level = min(level + 1, 3)
        reasons.append("marked urgent in the subject")
    if not addressed and any(profile.is_user(m) for m in email.cc):
        level = max(level - 1, 0)
        reasons.append("the user is only in Cc")
    if now - email.date > STALE:
        level = min(level, 1)
        reasons.append("more than a week old")
    elif email.labels and "UNREAD" not in email.labels:
        level = max(level - 1, 0)
        reasons.append("already read")
    return level


def _quiet_category(importance: float) -> str:
    return "personal" if importance >= 2 else "fyi"


def _is_bulk(email: Email) -> bool:
    headers = email.list_headers
    sender_local = (email.sender.email.split("@")[0] if email.sender else "").lower()
    return bool(
        headers.list_unsubscribe
        or headers.list_id
        or (headers.precedence or "").strip().lower() in BULK_PRECEDENCE
        or NO_REPLY.match(sender_local)
    )


def _people(email: Email, profile: UserProfile) -> list[str]:
    mailboxes = [m for m in [email.sender, *email.to, *email.cc] if m is not None and not profile.is_user(m)]
    return list(dict.fromkeys(m.display for m in mailboxes))


def requests_in(text: str) -> list[str]:
    """Sentences that ask the user something or ask them to do something."""
    found = []
    for match in SENTENCE.finditer(text[:4000]):
        sentence = " ".join(match.group().split())
        asks = sentence.endswith("?") or REQUEST.search(sentence)
        # "Questions?" at the foot of a receipt asks nothing: a real ask has a few words or a "you".
        if asks and (len(sentence.split()) >= 3 or YOU.search(sentence)):
            found.append(sentence[:200])
    return found[:5]


def find_deadlines(text: str, sent_at: datetime) -> list[Deadline]:
    """Dates that follow a deadline cue, read relative to when the message was sent."""
    from dateparser import parse  # imported on first use: it takes half a second

    deadlines: list[Deadline] = []
    for match in DEADLINE_CUE.finditer(text[:4000]):
        phrase = _trim_phrase(match.group(1))
        wording = END_OF.get(phrase.lower(), phrase)
        settings = {
            "RELATIVE_BASE": sent_at.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "REQUIRE_PARTS": [],
        }
        due = parse(wording, languages=["en"], settings=settings)  # type: ignore[arg-type]
        if due is None or not _looks_like_date(phrase):
            continue
        cue = " ".join(match.group(0)[: match.start(1) - match.start()].split())
        deadlines.append(Deadline(phrase=f"{cue} {phrase}", due=due.replace(tzinfo=sent_at.tzinfo)))
    return deadlines


DATE_WORD = re.compile(
    r"\d|today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|eod|eow|cob|end of day|noon|midnight",
    re.I,
)


def _looks_like_date(phrase: str) -> bool:
    return bool(DATE_WORD.search(phrase))


def _trim_phrase(words: str) -> str:
    """The cue's date words, cut at the first word that cannot be part of a date."""
    kept = []
    for word in words.split():
        bare = word.strip(",.;:!?")
        if kept and not (
            DATE_WORD.search(bare) or bare.lower() in {"at", "the", "of", "on", "next", "this", "pm", "am"}
        ):
            break
        kept.append(bare)
        if word[-1] in ",.;:!?":
            break
    return " ".join(kept)
