"""Demo mail as bytes and as a Maildir++ tree: one `Mail` record rendered the way real clients do.

`render` builds an RFC 5322 message with the standard library (plain text, an optional HTML
alternative, an optional iCalendar invitation part) and pins everything the library would randomise
(MIME boundaries), so that the same `Mail` always yields the same bytes. `write_maildir` files each
message under its folder with a Maildir key derived from its date and position and the flags the
gmail server reads: `S` (seen), `F` (flagged), `D` (draft); unread mail that just arrived sits in
`new/` without flags, as a delivery agent leaves it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from pathlib import Path

from orchestrator.demo.people import Person

__all__ = ["FOLDERS", "Mail", "render", "write_maildir"]

FOLDERS = ("", "Sent", "Drafts", "Trash", "Archive")
_POLICY = default.clone(linesep="\n", max_line_length=78)


@dataclass
class Mail:
    """One message of the demo mailbox, before rendering."""

    sender: Person
    to: list[Person]
    subject: str
    date: datetime
    body: str
    message_id: str
    cc: list[Person] = field(default_factory=list)
    html: str | None = None
    invite: bytes | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    folder: str = ""
    seen: bool = True
    flagged: bool = False
    fresh: bool = False  # delivered but never looked at: lives in new/

    def flags(self) -> str:
        letters = {"D": self.folder == "Drafts", "F": self.flagged, "S": self.seen}
        return "".join(letter for letter, on in letters.items() if on)


def render(mail: Mail) -> bytes:
    """The message as bytes, identical for identical input."""
    message = EmailMessage(policy=_POLICY)
    headers = {
        "From": mail.sender.header(),
        "To": ", ".join(person.header() for person in mail.to),
        "Cc": ", ".join(person.header() for person in mail.cc),
        "Subject": mail.subject,
        "Date": format_datetime(mail.date),
        "Message-ID": mail.message_id,
        "In-Reply-To": mail.in_reply_to or "",
        "References": " ".join(mail.references),
        **mail.headers,
    }
    for name, value in headers.items():
        if value:
            _set_header(message, name, value)
    message.set_content(mail.body)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    if mail.invite is not None:
        _attach_invite(message, mail.invite)
    _pin_boundaries(message, mail.message_id)
    return message.as_bytes(policy=_POLICY)


def _set_header(message: EmailMessage, name: str, value: str) -> None:
    """Short ASCII values are written as they are; the policy parses (and encodes) only the others,
    which makes rendering the demo mailbox twice as fast."""
    if value.isascii() and len(name) + len(value) + 2 <= _POLICY.max_line_length:
        message.set_raw(name, value)
    else:
        message[name] = value


def _attach_invite(message: EmailMessage, invite: bytes) -> None:
    """Calendar invitations the way Google and Outlook send them: an inline REQUEST part and a file."""
    message.add_alternative(
        invite.decode("utf-8"), subtype="calendar", params={"method": "REQUEST"}, cte="7bit"
    )
    message.add_attachment(invite, maintype="application", subtype="ics", filename="invite.ics")


def _pin_boundaries(message: EmailMessage, seed: str) -> None:
    token = hashlib.sha256(seed.encode()).hexdigest()[:20]
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"==pepper-demo-{token}-{index}==")


def _key(mail: Mail, position: int) -> str:
    return f"{int(mail.date.timestamp())}.M{position:05d}.pepper-demo"


def write_maildir(root: Path, mails: list[Mail]) -> None:
    """Write `mails` as a Maildir++ tree under `root` (which must not exist yet)."""
    for folder in FOLDERS:
        base = root / f".{folder}" if folder else root
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
    for position, mail in enumerate(sorted(mails, key=lambda m: (m.date, m.message_id))):
        base = root / f".{mail.folder}" if mail.folder else root
        key = _key(mail, position)
        path = base / "new" / key if mail.fresh else base / "cur" / f"{key}:2,{mail.flags()}"
        path.write_bytes(render(mail))
        stamp = mail.date.timestamp()
        os.utime(path, (stamp, stamp))
