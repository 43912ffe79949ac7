"""A labelled personal mailbox, built at run time: the demo generator's families plus families the
demo never writes, each message labelled by the rule of the family that wrote it.

The rules are in `bench/data/README.md` ("The labelled personal mailbox"), written before anything
was measured: needs-attention / fyi / bulk / spam, with `waiting_on_me` and an expected deadline
where the family sets one. Development mailboxes (seeds 101-104) hold the demo's families and spam
from the SpamAssassin development split; test mailboxes (seeds 201-204, other dates) add the held-out
families: cold outreach, phishing from a look-alike of the manager's address, and colleagues'
requests in French and German sent as HTML only. A mailbox is what a first sync would read: each
message as raw bytes with the labels the gmail server would give it (folder, read state).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from bench.triage.corpus import CorpusMessage
from orchestrator.demo import generate
from orchestrator.demo.bulk import newsletters
from orchestrator.demo.mime import Mail, render
from orchestrator.demo.notices import notifications, receipts
from orchestrator.demo.people import CEO, CLIENT, DEMO_TIMEZONE, MANAGER, TOM, USER, ZOE, Person
from orchestrator.demo.scenarios import (
    answered_question,
    awaiting_vendor,
    board_invitation,
    ceo_question,
    client_invitation,
    deadline_tomorrow,
    launch_pre_read,
    routine,
    trashed_promotions,
    urgent_from_manager,
)
from orchestrator.demo.threads import everyday_threads
from orchestrator.demo.timeline import Timeline

__all__ = ["DEV", "TEST", "Labelled", "Mailbox", "build_mailbox"]

DEV = {101: datetime(2026, 3, 2, 9, 30), 102: datetime(2026, 3, 11, 14, 10),
       103: datetime(2026, 3, 19, 8, 45), 104: datetime(2026, 3, 27, 17, 20)}  # fmt: skip
TEST = {201: datetime(2026, 6, 9, 10, 5), 202: datetime(2026, 6, 17, 15, 40),
        203: datetime(2026, 6, 25, 8, 15), 204: datetime(2026, 7, 3, 12, 0)}  # fmt: skip
WEEKS, THREADS, SPAM_PER_BOX = 6, 50, 30
NEEDS_ATTENTION = {
    "urgent_from_manager",
    "deadline_tomorrow",
    "ceo_question",
    "client_invitation",
    "i18n_request",
}
BULK = {"newsletters", "tool_notifications", "receipts", "trashed_promotions"}
SPAM = {"spamassassin", "phishing"}
HELD_OUT = {"cold_outreach", "phishing", "i18n_request"}


@dataclass
class Labelled:
    id: str
    raw: bytes
    labels: list[str]
    family: str
    label: str  # needs-attention | fyi | bulk | spam | sent (not labelled: teaches the profile)
    waiting_on_me: bool = False
    deadline: date | None = None
    date_override: datetime | None = None  # re-dated corpus spam


@dataclass
class Mailbox:
    seed: int
    now: datetime
    messages: list[Labelled] = field(default_factory=list)
    vips: list[str] = field(default_factory=lambda: [CEO.email, CLIENT.email])
    user: str = USER.email


def _folder_labels(mail: Mail) -> list[str]:
    folder = {
        "": ["INBOX"],
        "Sent": ["SENT"],
        "Drafts": ["DRAFT"],
        "Trash": ["TRASH"],
        "Archive": ["Archive"],
    }
    unread = not mail.seen and mail.folder not in ("Sent", "Drafts")
    return folder[mail.folder] + (["UNREAD"] if unread else [])


def _label(family: str, mail: Mail) -> str:
    if mail.folder in ("Sent", "Drafts"):
        return "sent"
    if family in SPAM:
        return "spam"
    if family in BULK:
        return "bulk"
    unread_in_inbox = not mail.seen and mail.folder == ""
    return "needs-attention" if family in NEEDS_ATTENTION and unread_in_inbox else "fyi"


def _expected_deadline(family: str, timeline: Timeline) -> date | None:
    return {"urgent_from_manager": timeline.today, "deadline_tomorrow": timeline.day(1)}.get(family)


def _families(timeline: Timeline, held_out: bool) -> dict[str, list[Mail]]:
    """Each family's mail; everyday families get the demo's read and folder rules."""
    notices = notifications(timeline, WEEKS)
    everyday = {
        "newsletters": newsletters(timeline, WEEKS),
        "tool_notifications": [m for m in notices if "sign-in" not in m.subject],
        "security_notices": [m for m in notices if "sign-in" in m.subject],
        "receipts": receipts(timeline, WEEKS),
        "everyday_threads": everyday_threads(timeline, THREADS, WEEKS),
        "routine": routine(timeline, WEEKS),
        **({"cold_outreach": cold_outreach(timeline)} if held_out else {}),
    }
    for mails in everyday.values():
        for mail in mails:
            generate._everyday_state(mail, timeline)  # the demo's own rule: old mail read, some archived
    planted: dict[str, Callable[[Timeline], list[Mail]]] = {
        "awaiting_vendor": awaiting_vendor, "answered_question": answered_question,
        "launch_pre_read": launch_pre_read, "ceo_question": ceo_question,
        "board_invitation": board_invitation, "client_invitation": client_invitation,
        "deadline_tomorrow": deadline_tomorrow, "urgent_from_manager": urgent_from_manager,
        "trashed_promotions": trashed_promotions,
    }  # fmt: skip
    families = {**everyday, **{name: build(timeline) for name, build in planted.items()}}
    if held_out:
        families["phishing"] = phishing(timeline)
    return families


def build_mailbox(seed: int, spam: list[CorpusMessage], held_out: bool) -> Mailbox:
    """The mailbox of `seed` (in `DEV` or `TEST`), with `SPAM_PER_BOX` of `spam` re-dated into it."""
    zone = ZoneInfo(DEMO_TIMEZONE)
    now = (DEV | TEST)[seed].replace(tzinfo=zone)
    timeline = Timeline(now, zone, seed)
    box = Mailbox(seed, timeline.now)
    for family, mails in _families(timeline, held_out).items():
        for index, mail in enumerate(mails):
            label = _label(family, mail)
            needs = label == "needs-attention"
            box.messages.append(
                Labelled(f"{seed}-{family}-{index}", render(mail), _folder_labels(mail), family, label,
                         waiting_on_me=needs, deadline=_expected_deadline(family, timeline) if needs else None)
            )  # fmt: skip
    if held_out:
        box.messages += i18n_requests(timeline, seed)
    rng = random.Random(seed)
    for message in rng.sample(spam, min(SPAM_PER_BOX, len(spam))):
        when = timeline.now - timedelta(minutes=rng.randint(5, 72 * 60))
        box.messages.append(
            Labelled(f"{seed}-spam-{message.name}", message.raw, ["INBOX", "UNREAD"], "spamassassin", "spam",
                     date_override=when)
        )  # fmt: skip
    return box


# The held-out families: kinds of mail the demo generator never wrote while the ranker was tuned.

STRANGERS = [
    ("Maya Brooks", "maya@growthlabs.example", "Growth Labs"),
    ("Owen Price", "owen.price@leadspark.example", "LeadSpark"),
    ("Ines Duarte", "ines@cloudmetrics.example", "CloudMetrics"),
    ("Victor Hale", "v.hale@talentbridge.example", "TalentBridge"),
]


def cold_outreach(timeline: Timeline) -> list[Mail]:
    mails = []
    for index, (name, address, company) in enumerate(STRANGERS):
        sender = Person(name, address)
        body = (
            f"Hi Alex,\n\nI'm {name.split()[0]} from {company}. We help product teams like yours cut "
            "onboarding time in half. Could you spare 15 minutes this week for a quick call? "
            "Would Thursday work?\n\nBest,\n" + name
        )
        when = timeline.at(index % 3, 9 + index, 15)
        mails.append(Mail(sender, [USER], f"Quick question, Alex ({company})", when, body,
                          timeline.message_id(sender.domain), seen=False))  # fmt: skip
    return mails


def phishing(timeline: Timeline) -> list[Mail]:
    fake = Person(MANAGER.name, "jordan.blake@pepper-demo.example")
    texts = [
        ("URGENT: wire transfer needed today", "Alex, I'm stuck in meetings. Can you process a payment of "
         "$24,800 to our new supplier by 3pm today? Send me the confirmation. Jordan"),
        ("Re: invoice approval", "Please approve the attached invoice before noon today, the vendor is "
         "waiting. Reply to this address only."),
    ]  # fmt: skip
    mails = []
    for index, (subject, body) in enumerate(texts):
        mail = Mail(fake, [USER], subject, timeline.earlier_today(0.3 + 0.2 * index), body,
                    timeline.message_id(fake.domain), seen=False)  # fmt: skip
        mail.headers["Authentication-Results"] = "mx.pepper.demo; spf=fail smtp.mailfrom=pepper-demo.example"
        mails.append(mail)
    return mails


def i18n_requests(timeline: Timeline, seed: int) -> list[Labelled]:
    """Colleagues' requests in French and German, HTML only, with entities: needs-attention."""
    friday = timeline.day((4 - timeline.today.weekday()) % 7 or 7)  # "vendredi", "Freitag": the next Friday
    items = [
        (ZOE, "Relecture de la pr&eacute;sentation",
         "<p>Bonjour Alex,</p><p>Peux-tu relire la pr&eacute;sentation Atlas et me donner ton avis "
         "avant vendredi&nbsp;? Les slides sont dans le dossier partag&eacute;.</p><p>Merci&nbsp;!<br>Zo&euml;</p>"),
        (TOM, "Budgetfreigabe f&uuml;r Q4",
         "<p>Hallo Alex,</p><p>kannst du bitte die Budgetfreigabe f&uuml;r das Tooling pr&uuml;fen? "
         "Ich brauche deine R&uuml;ckmeldung bis Freitag.</p><p>Danke und Gr&uuml;&szlig;e,<br>Tom</p>"),
    ]  # fmt: skip
    found = []
    for index, (sender, subject, html) in enumerate(items):
        message = EmailMessage()
        message["From"] = formataddr((sender.name, sender.email))
        message["To"] = formataddr((USER.name, USER.email))
        message["Subject"] = subject.replace("&eacute;", "é").replace("&uuml;", "ü")
        message["Date"] = format_datetime(timeline.earlier_today(0.5 + 0.2 * index))
        message["Message-ID"] = timeline.message_id(sender.domain)
        message.set_content(html, subtype="html")
        found.append(
            Labelled(f"{seed}-i18n-{index}", message.as_bytes(), ["INBOX", "UNREAD"], "i18n_request",
                     "needs-attention", waiting_on_me=True, deadline=friday)
        )  # fmt: skip
    return found
