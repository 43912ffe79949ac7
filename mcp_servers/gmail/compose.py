"""Building outgoing mail: new messages, replies that thread correctly, and forwards.

Replies carry `In-Reply-To` and `References` so that every client threads them, quote the original
with the usual `On <date>, <sender> wrote:` header, and address the sender (or Reply-To), plus the
other recipients for reply-all minus the user. Forwards attach the original unchanged as
message/rfc822, so nothing of it (attachments included) is lost. Every message passes `compose`,
which checks each recipient (one RFC 5322 address per entry, at least one To) and refuses header
text with a line break, raising `HeaderValueError` (see `mcp_servers.common.addresses`). A message
with `html` goes out as multipart/alternative, its text part the given body or, when that is empty,
text made from the HTML (`text.html_to_text`); attached files make it multipart/mixed. A reply with
`html` quotes the original in both parts: as `> ` lines in the text, in a `<blockquote>` in the HTML.
"""

from __future__ import annotations

import email
import email.policy
import html as markup
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid

from mcp_servers.common.addresses import HeaderValueError, header_text, mailbox, recipients

from .manage.files import OutgoingFile
from .models import Message, OutgoingMessage
from .text import html_to_text

__all__ = ["compose", "forward_of", "reply_to"]

# Long threads carry long References (about 60 characters an id); past this, folding gets slow.
MAX_REFERENCES_CHARS = 20_000


def _prefixed(prefix: str, subject: str) -> str:
    subject = " ".join(
        subject.splitlines()
    )  # an encoded word may hide a line break: never refuse a reply for it
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}".strip()


def compose(outgoing: OutgoingMessage, from_address: str, files: Sequence[OutgoingFile] = ()) -> EmailMessage:
    """An RFC 5322 message from `outgoing` with `files` attached (read by `manage.files.read_outgoing`
    from `outgoing.attachments`), with fresh Message-ID and Date.

    Raises `HeaderValueError` for a recipient that is not one address, an empty To, or header text
    with a line break."""
    message = EmailMessage()
    message["From"] = mailbox(from_address, "from address (PEPPER_GMAIL_FROM_ADDRESS)")
    message["To"] = ", ".join(recipients(outgoing.to, "to", required=True))
    for field, values in (("Cc", outgoing.cc), ("Bcc", outgoing.bcc)):
        if values:
            message[field] = ", ".join(recipients(values, field.lower()))
    message["Subject"] = header_text(outgoing.subject, "subject")
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2].strip(">") or "pepper.invalid")
    if outgoing.in_reply_to:
        message["In-Reply-To"] = header_text(outgoing.in_reply_to, "in_reply_to")
    if outgoing.references:
        joined = " ".join(header_text(ref, "references") for ref in outgoing.references)
        message["References"] = header_text(joined, "references", limit=MAX_REFERENCES_CHARS)
    if outgoing.attachments and len(files) != len(outgoing.attachments):
        raise ValueError("compose needs the files of outgoing.attachments: read them with read_outgoing")
    html = outgoing.html
    message.set_content(outgoing.body or (html_to_text(html) + "\n" if html else ""))
    if html:
        message.add_alternative(html, subtype="html")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.name)
    return message


def reply_to(
    original: Message,
    body: str,
    from_address: str,
    reply_all: bool = False,
    files: Sequence[OutgoingFile] = (),
    html: str | None = None,
) -> EmailMessage:
    """A reply to `original` that threads with it and quotes it, with `files` attached; with `html`,
    multipart/alternative (its text part `body`, or text made from the HTML when `body` is empty)."""
    own = from_address.lower()
    primary = original.reply_to or ([original.from_] if original.from_ else [])
    to = [a.formatted() for a in primary]
    cc = []
    if reply_all:
        already = {a.email.lower() for a in primary} | {own}
        cc = [a.formatted() for a in original.to + original.cc if a.email.lower() not in already]
    if not to:
        to = cc[:1]
        cc = cc[1:]
    if not to:
        raise HeaderValueError("the message has no sender to reply to: write a new message with send_message")
    sender = original.from_.formatted() if original.from_ else "someone"
    quoted = "\n".join(f"> {line}" if line else ">" for line in original.text.splitlines())
    attribution = f"On {format_datetime(original.date)}, {sender} wrote:"
    own_text = body.rstrip() or (html_to_text(html).rstrip() if html else "")
    text = f"{own_text}\n\n{attribution}\n{quoted}\n"
    references = [*original.references, original.message_id] if original.message_id else original.references
    outgoing = OutgoingMessage(
        to=to,
        cc=cc,
        subject=_prefixed("Re:", original.subject),
        body=text,
        html=_quoted_html(html, attribution, original.text) if html else None,
        in_reply_to=original.message_id,
        references=references,
        attachments=[file.name for file in files],
    )
    return compose(outgoing, from_address, files)


def _quoted_html(html: str, attribution: str, original: str) -> str:
    """The reply's HTML with the original's text quoted below it, escaped, its lines kept."""
    lines = "<br>\n".join(markup.escape(line) for line in original.splitlines())
    return f'{html}\n<p>{markup.escape(attribution)}</p>\n<blockquote type="cite">\n{lines}\n</blockquote>\n'


def forward_of(original: Message, raw: bytes, to: list[str], body: str, from_address: str) -> EmailMessage:
    """`original` forwarded to `to`, attached whole as message/rfc822 under a note."""
    outgoing = OutgoingMessage(
        to=to, subject=_prefixed("Fwd:", original.subject), body=body or "Forwarded message."
    )
    message = compose(outgoing, from_address)
    attached = email.message_from_bytes(raw, policy=email.policy.default)
    message.add_attachment(attached, filename=f"{original.subject or 'message'}.eml")
    return message
