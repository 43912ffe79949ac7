"""A small mailbox written to know the answer of every search in the query table.

Twelve messages over every folder kind (inbox, sent, drafts, spam, trash, a user folder, archive),
with Cc, Bcc, attachments of known sizes, a List-Id, Delivered-To, accents, Japanese, and user,
category and IMPORTANT labels. `NOW` pins the clock the relative dates count from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from .maildirs import deliver

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
ME = "me@home.example"


def _mail(sender: str, to: str, subject: str, body: str, when: datetime, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = headers.pop("message_id", f"<{subject.encode().hex()[:24]}@corpus.example>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def _at(month: int, day: int, hour: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _attach(message: EmailMessage, name: str, size: int, content_type: str) -> EmailMessage:
    maintype, subtype = content_type.split("/")
    message.add_attachment(
        bytes(range(256)) * (size // 256), maintype=maintype, subtype=subtype, filename=name
    )
    return message


# name -> (folder, Maildir flags, message)
CORPUS: dict[str, tuple[str, str | None, EmailMessage]] = {
    "dana": ("", None, _mail("Dana Scully <dana@fbi.example>", ME, "Budget review",
                             "Please review the quarterly report before Friday.", _at(3, 9, 10),
                             message_id="<budget-1@fbi.example>", delivered_to=ME)),
    "priya": ("", "FS", _mail("Priya Patel <priya@corp.example>", ME, "Lunch on Thursday?",
                              "Pizza or sushi? Let me know.", _at(3, 5, 12),
                              cc="Dana Scully <dana@fbi.example>", delivered_to=ME)),
    "bob": ("Receipts", "S", _attach(_mail("bob@vendor.example", ME, "Invoice 42",
                                           "Attached is the invoice for February.", _at(2, 20, 9)),
                                     "invoice.pdf", 50_000, "application/pdf")),
    "news": ("", None, _mail("Weekly News <news@lists.example>", "subscribers@lists.example",
                             "This week in science", "Telescopes, comets and the budget of NASA.",
                             _at(12, 1, 7, year=2025), list_id="Weekly <weekly.lists.example>")),
    "sent": ("Sent", "S", _mail(f"Me <{ME}>", "priya@corp.example", "Re: Lunch on Thursday?",
                                "Sushi, of course.", _at(3, 5, 13), bcc="boss@corp.example")),
    "draft": ("Drafts", "S", _mail(ME, "dana@fbi.example", "Draft plan", "Some holiday ideas for the team.",
                                   _at(3, 8, 18))),
    "spam": ("Spam", None, _mail("win@lottery.example", ME, "You won", "Claim your prize and a free pizza",
                                 _at(3, 9, 11))),
    "trash": ("Trash", "S", _mail("dana@fbi.example", ME, "Old budget", "The obsolete report.",
                                  _at(6, 1, 12, year=2025))),
    "rene": ("", None, _mail("René Côté <rene@montreal.example>", ME, "Café demain", "On se voit au café à midi.",
                             _at(3, 10, 8), delivered_to="work@home.example")),
    "photos": ("Archive", "S", _attach(_mail("Priya Patel <priya@corp.example>", ME, "Holiday photos",
                                             "All the pictures from the trip.", _at(1, 15, 20)),
                                       "photos.zip", 1_500_000, "application/zip")),
    "tanaka": ("", "S", _mail("tanaka@example.jp", ME, "会議の件", "明日の会議について", _at(3, 7, 1))),
    "carol": ("", "S", _mail("Carol Diaz <carol@home.example>", ME, "Trip",
                             "Our holiday in the mountains was a well deserved vacation after all.", _at(3, 1, 9))),
}  # fmt: skip
EXTRA_LABELS = {"dana": ["IMPORTANT"], "news": ["CATEGORY_UPDATES"], "carol": ["My Projects"]}
EVERYWHERE = set(CORPUS)
DEFAULT = EVERYWHERE - {"spam", "trash"}


def write_corpus(root: Path) -> dict[str, str]:
    """Deliver the corpus into the Maildir at `root`; returns the Maildir key of each name."""
    return {
        name: deliver(root, bytes(message), folder, flags)
        for name, (folder, flags, message) in CORPUS.items()
    }
