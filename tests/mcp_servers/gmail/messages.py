"""Builders for test messages: realistic mail as bytes, written the way clients write it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def plain_message(
    subject: str = "Hello",
    body: str = "Hi Ada,\nSee you at noon.\n",
    sender: str = "Bob Example <bob@example.org>",
    to: str = "ada@example.org",
    date: datetime | None = None,
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2025, 3, 4, 9, 30, tzinfo=UTC))
    message["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def message_with_attachment(name: str, data: bytes, content_type: str = "application/pdf") -> bytes:
    message = EmailMessage()
    message["From"] = "bob@example.org"
    message["To"] = "ada@example.org"
    message["Subject"] = "Report attached"
    message["Date"] = "Tue, 04 Mar 2025 09:30:00 +0000"
    message.set_content("The report is attached.\n")
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)
