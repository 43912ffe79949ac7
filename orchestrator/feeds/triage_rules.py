"""The rules triage engine: what an email means for the user, with no language model.

Each rule (a feature, one function below) looks at one thing and leaves a reason: bulk and
mailing-list mail (List-Unsubscribe, List-Id, Precedence, no-reply senders), the sender's trust and
importance (`sender_trust`: VIPs and people the user wrote to, learned from the Sent folder only; a
forged or borrowed From makes the sender a suspicious stranger), mail about one of the user's active
projects (see `UserProfile.project_about`), deadlines (`orchestrator.triage.deadlines`: a cue
and a date in a plausible range, read relative to the message's date), urgency words in the subject,
direct questions and requests to the user, and whether the user is in To or only in Cc.
Mail the content model (`orchestrator.triage.content`: words and headers) calls spam goes to low
priority in the "spam" category (list mail stays "bulk"), with the words that gave it away as a
reason, and so does mail the provider filed as spam (the SPAM label: a Junk/Spam folder), unless
the user knows the sender:
content alone never silences a VIP or a correspondent (a forged From of theirs is caught by the
trust rules instead, and a mail-merge from a colleague can read like spam).
Deadlines and urgency words raise priority only when a trusted sender wrote them: from a stranger
they are noted and change nothing. The reasons travel with the verdict so the user can see why.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import SenderTrust, sender_trust
from orchestrator.feeds.summary import summarize
from orchestrator.triage.content import ContentModel, seed_model
from orchestrator.triage.deadlines import Deadline, find_deadlines

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
REQUEST = re.compile(
    r"\b(can you|could you|would you|will you|please|let me know|do you|are you|kindly|need you to)\b", re.I
)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


class Triage(BaseModel):
    """The verdict on one email."""

    priority: str = Field(description="low | normal | high | urgent")
    category: str = Field(description="action | fyi | bulk | personal | spam")
    summary: str = Field(description="One line: who, what")
    action_items: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="Why: one entry per rule that fired")


def triage_email(
    email: Email, profile: UserProfile, now: datetime | None = None, content: ContentModel | None = None
) -> Triage:
    """Judge one email for the user described by `profile`, as of `now` (default: its date), with the
    user's content model (default: the shipped seed model)."""
    now = now or email.date
    people = _people(email, profile)
    trust = sender_trust(email, profile)
    spam = _spam_reason(email, trust, content or seed_model())
    if spam is not None or _is_bulk(email):
        # List mail that reads like spam stays bulk (a newsletter is not junk): low either way.
        category = "bulk" if _is_bulk(email) else "spam"
        reasons = ["bulk, automated or mailing-list mail"] if category == "bulk" else []
        reasons += [spam] if spam else []
        return Triage(
            priority="low",
            category=category,
            summary=summarize(email),
            people=people,
            reasons=[*reasons, *_suspicion(trust)],
        )
    addressed = any(profile.is_user(m) for m in email.to)
    requests = requests_in(email.text) if addressed else []
    deadlines = [
        *find_deadlines(email.text, email.date, trusted=trust.trusted),
        *find_deadlines(email.subject, email.date, trusted=trust.trusted),
    ]
    reasons = _suspicion(trust)
    level = _sender_level(trust, reasons)
    if requests:
        reasons.append("asks the user directly")
    level = _deadline_level(level, trust, deadlines, bool(requests), now, reasons)
    if (project := profile.project_about(email, now)) is not None:
        level = max(level, 2)  # high, no further: a project makes mail matter, not urgent
        reasons.append(f"about the active project {project.name}")
    level = _urgent_words_level(level, email, trust, reasons)
    level = _damped_level(level, email, profile, addressed, now, reasons)
    category = "action" if requests or (deadlines and addressed) else _quiet_category(trust.importance)
    return Triage(
        priority=PRIORITIES[level],
        category=category,
        summary=summarize(email),
        action_items=requests,
        deadlines=deadlines,
        people=people,
        reasons=reasons,
    )


# The features, each a step on the level (0 low .. 3 urgent) that explains itself in `reasons`.


def _spam_reason(email: Email, trust: SenderTrust, content: ContentModel) -> str | None:
    """Feature: the provider's spam folder, then the content model's verdict; either acted on only for
    a sender the user does not know."""
    if trust.known:
        return None
    if "SPAM" in email.labels:
        return "the mail provider filed it as spam"
    verdict = content.judge(email)
    return verdict.reason() if verdict.spam else None


def _suspicion(trust: SenderTrust) -> list[str]:
    """Feature: signs of a forged or borrowed From (see `sender_trust`), and the user's own address
    on mail from outside. Such a sender counts as a stranger for every feature below."""
    reasons = [f"suspicious: {why}" for why in trust.suspicious]
    if trust.own_address:
        reasons.append("From is the user's own address, but the mail did not come from Sent: a stranger")
    return reasons


def _sender_level(trust: SenderTrust, reasons: list[str]) -> int:
    """Feature: whom it is from. A VIP or someone the user often writes to makes it high."""
    if trust.importance >= 2:
        reasons.append(
            "sender is a VIP" if trust.importance >= 10 else "the user often writes to this sender"
        )
        return 2
    return 1


def _deadline_level(
    level: int, trust: SenderTrust, deadlines: list[Deadline], asks: bool, now: datetime, reasons: list[str]
) -> int:
    """Feature: deadlines. One within 48 h raises to high, to urgent with a direct request; a later
    one with a request raises to high. Only from a trusted sender: a stranger's deadline is noted."""
    upcoming = [d.due for d in deadlines if d.due >= now]
    if not upcoming:
        if deadlines:
            reasons.append("its deadline has passed")
        return level
    soon = min(upcoming) - now <= timedelta(hours=48)
    reason = f"deadline {min(upcoming):%a %d %b %H:%M}" + (" (within 48 h)" if soon else "")
    if not trust.trusted:
        reasons.append(f"{reason}, not raised: {_stranger(trust)}")
        return level
    reasons.append(reason)
    return max(level, 3 if soon and asks else 2 if soon or asks else level)


def _urgent_words_level(level: int, email: Email, trust: SenderTrust, reasons: list[str]) -> int:
    """Feature: "urgent", "ASAP", "emergency" ... in the subject add a step, from a trusted sender only
    (anyone can write "URGENT"; it is the commonest lure in spam and phishing)."""
    if not URGENT_WORDS.search(email.subject):
        return level
    if not trust.trusted:
        reasons.append(f"marked urgent in the subject, not raised: {_stranger(trust)}")
        return level
    reasons.append("marked urgent in the subject")
    return min(level + 1, 3)


def _stranger(trust: SenderTrust) -> str:
    return "the sender is not trusted" if trust.suspicious else "the user never wrote to this sender"


def _damped_level(
    level: int, email: Email, profile: UserProfile, addressed: bool, now: datetime, reasons: list[str]
) -> int:
    """Features that lower: the user only in Cc, mail older than a week, mail already read."""
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
    """Who else is on the mail; a sender using the user's address on mail not from Sent is listed."""
    others = [m for m in [*email.to, *email.cc] if not profile.is_user(m)]
    sender = [email.sender] if email.sender and not (email.in_sent and profile.is_user(email.sender)) else []
    return list(dict.fromkeys(m.display for m in [*sender, *others]))


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
