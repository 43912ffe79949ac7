"""Parsing raw RFC 5322 mail into the normalized `Message`, whatever state the mail is in.

`parse_message(raw, id=..., labels=...)` returns a `Message` or raises `MessageParseError` for that
message alone; nothing else escapes, so a sync loop can record the error and go on. The standard
library's lenient compat32 parser reads the structure; headers, charsets and HTML are handled by
`text`. Files larger than `SLIM_THRESHOLD` are first passed through `slim.slim_message`, so huge
attachments are measured while streaming and never held in memory whole.
"""

from __future__ import annotations

import email
import hashlib
import re
from datetime import UTC, datetime
from email.message import Message as MimeMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from .authentication import authentication_of
from .models import Address, Attachment, ListHeaders, Message
from .slim import OMITTED_HEADER, slim_message
from .text import decode_bytes, decode_header_value, html_to_text, is_stub, plain_to_text, split_reply

__all__ = [
    "SLIM_THRESHOLD",
    "MessageParseError",
    "attachment_parts",
    "parse_file",
    "parse_message",
    "thread_key",
]

SLIM_THRESHOLD = 2 * 1024 * 1024
_MSGID = re.compile(r"<[^<>\s]+>")


class MessageParseError(Exception):
    """One message could not be turned into a `Message`; the reason says why."""

    def __init__(self, message_id: str, reason: str) -> None:
        super().__init__(f"message {message_id}: {reason}")
        self.message_id = message_id
        self.reason = reason


def parse_file(path: Path, *, id: str, labels: list[str], thread_id: str | None = None) -> Message:
    """Parse the message stored at `path`; large files are slimmed while streaming."""
    try:
        stat = path.stat()
        received = datetime.fromtimestamp(stat.st_mtime, UTC)
        with path.open("rb") as stream:
            raw = stream.read() if stat.st_size <= SLIM_THRESHOLD else slim_message(stream)
    except OSError as exc:
        raise MessageParseError(id, f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_message(raw, id=id, labels=labels, received=received, size=stat.st_size, thread_id=thread_id)


def parse_message(
    raw: bytes,
    *,
    id: str,
    labels: list[str] | None = None,
    received: datetime | None = None,
    size: int | None = None,
    thread_id: str | None = None,
) -> Message:
    """Normalize one raw message; `received` stands in for a missing or broken Date header."""
    if not isinstance(raw, bytes | bytearray):
        raise MessageParseError(id, f"expected bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise MessageParseError(id, "the message is empty")
    try:
        mime = email.message_from_bytes(bytes(raw))
        return _normalize(mime, raw, id, labels or [], received, size, thread_id)
    except MessageParseError:
        raise
    except Exception as exc:  # the parser's own bugs on hostile input: one message, one error
        raise MessageParseError(id, f"unparseable ({type(exc).__name__}: {exc})") from exc


def _normalize(
    mime: MimeMessage,
    raw: bytes,
    id: str,
    labels: list[str],
    received: datetime | None,
    size: int | None,
    thread_id: str | None,
) -> Message:
    defects = [f"MIME: {type(defect).__name__}" for defect in mime.defects]
    if not any(mime.keys()):
        raise MessageParseError(id, "no headers found: this is not an email message")
    body = _Body()
    body.collect(mime, defects)
    text, quoted, signature = split_reply(body.text())
    message_id = _first_msgid(mime.get("Message-ID"))
    if message_id is None:
        defects.append("missing Message-ID")
    references = _msgids(mime.get("References"))
    in_reply_to = _first_msgid(mime.get("In-Reply-To"))
    return Message(
        id=id,
        thread_id=thread_id or thread_key(references, in_reply_to, message_id, id),
        message_id=message_id,
        from_=(_addresses(mime.get_all("From")) or [None])[0],
        to=_addresses(mime.get_all("To")),
        cc=_addresses(mime.get_all("Cc")),
        bcc=_addresses(mime.get_all("Bcc")),
        delivered_to=[a.email for a in _addresses(mime.get_all("Delivered-To"))],
        reply_to=_addresses(mime.get_all("Reply-To")),
        date=_date(mime.get("Date"), received, defects),
        subject=decode_header_value(mime.get("Subject")),
        snippet=re.sub(r"\s+", " ", text)[:200],
        text=text,
        quoted=quoted,
        signature=signature,
        labels=labels,
        list_headers=_list_headers(mime),
        in_reply_to=in_reply_to,
        references=references,
        attachments=body.numbered(),
        size=size if size is not None else len(raw),
        defects=defects,
        authentication=authentication_of(mime),
    )


def thread_key(references: list[str], in_reply_to: str | None, message_id: str | None, id: str) -> str:
    """A conversation id: the root of the References chain, hashed to a short stable token."""
    root = (references[0] if references else None) or in_reply_to or message_id or f"id:{id}"
    return hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _first_msgid(value: object) -> str | None:
    ids = _msgids(value)
    return ids[0] if ids else (decode_header_value(value) or None if value else None)


def _msgids(value: object) -> list[str]:
    return _MSGID.findall(decode_header_value(value)) if value else []


def _addresses(values: list[object] | None) -> list[Address]:
    decoded = [decode_header_value(value) for value in values or []]
    result = []
    for name, addr in getaddresses(decoded):
        if addr or name:
            result.append(Address(name=name, email=addr or name))
    return result


def _date(value: object, received: datetime | None, defects: list[str]) -> datetime:
    fallback = received or datetime.now(UTC)
    if not value:
        defects.append("missing Date; using the delivery time")
        return fallback
    try:
        parsed = parsedate_to_datetime(decode_header_value(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"unreadable Date {str(value)[:60]!r}; using the delivery time")
        return fallback
    if parsed.tzinfo is None:
        defects.append("Date without a time zone; assumed UTC")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _list_headers(mime: MimeMessage) -> ListHeaders:
    def header(name: str) -> str | None:
        return decode_header_value(mime.get(name)) or None

    return ListHeaders(
        list_unsubscribe=header("List-Unsubscribe"),
        list_id=header("List-Id"),
        precedence=header("Precedence"),
    )


class _Body:
    """Walks the MIME tree: picks the readable text and lists the attachments."""

    def __init__(self) -> None:
        self.sections: list[str] = []
        self.attachments: list[Attachment] = []
        self.parts: list[MimeMessage] = []  # the MIME part of each attachment, in the same order

    def numbered(self) -> list[Attachment]:
        """The attachments with their ids: their position in the message, from 1."""
        return [a.model_copy(update={"id": str(n)}) for n, a in enumerate(self.attachments, 1)]

    def _attach(self, part: MimeMessage) -> None:
        self.attachments.append(_attachment(part, len(self.attachments)))
        self.parts.append(part)

    def _take(self, other: _Body) -> None:
        self.attachments += other.attachments
        self.parts += other.parts

    def text(self) -> str:
        readable = [section for section in self.sections if not is_stub(section)]
        # A stub ("this is an HTML message") is kept only when nothing else is there to read.
        return "\n\n".join(readable or [s for s in self.sections if s.strip()])

    def collect(self, part: MimeMessage, defects: list[str]) -> None:
        maintype, ctype = part.get_content_maintype(), part.get_content_type()
        if _is_attachment(part):
            self._attach(part)
            if ctype == "message/rfc822":
                self._forwarded(part, defects)
        elif ctype == "multipart/alternative":
            self._alternative(part, defects)
        elif maintype == "multipart" and not isinstance(part.get_payload(), list):
            defects.append(f"{ctype} without parts; read as text")
            self.sections.append(_part_text(part, defects))
        elif maintype == "multipart":
            for child in _children(part):
                self.collect(child, defects)
        elif ctype == "message/rfc822":
            self._forwarded(part, defects)
        elif ctype in ("text/plain", "text/html") or maintype == "text":
            self.sections.append(_part_text(part, defects))
        else:
            self._attach(part)

    def _alternative(self, part: MimeMessage, defects: list[str]) -> None:
        """The plain-text version unless it is blank or a stub, else the richest readable one."""
        children = _children(part)
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        others = [c for c in reversed(children) if c.get_content_type() != "text/plain"]
        first: tuple[_Body, list[str]] | None = None
        for child in plain + others:
            body, found = _Body(), list[str]()
            body.collect(child, found)
            first = first or (body, found)
            if not is_stub(body.text()):
                first = (body, found)
                break
        if first is not None:
            self.sections += first[0].sections
            self._take(first[0])
            defects += first[1]

    def _forwarded(self, part: MimeMessage, defects: list[str]) -> None:
        for inner in _children(part):
            nested = _Body()
            nested.collect(inner, defects)
            heading = ["---------- Forwarded message ----------"]
            for name in ("From", "Date", "Subject", "To"):
                if inner.get(name):
                    heading.append(f"{name}: {decode_header_value(inner.get(name))}")
            self.sections.append("\n".join(heading) + "\n\n" + nested.text())
            self._take(nested)


def attachment_parts(raw: bytes) -> list[tuple[Attachment, MimeMessage]]:
    """Each attachment of a raw message (numbered as in `Message.attachments`) with its MIME part."""
    body = _Body()
    body.collect(email.message_from_bytes(bytes(raw)), [])
    return list(zip(body.numbered(), body.parts, strict=True))


def _children(part: MimeMessage) -> list[MimeMessage]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, MimeMessage)] if isinstance(payload, list) else []


def _is_attachment(part: MimeMessage) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or (
        disposition != "inline"
        and part.get_filename() is not None
        and part.get_content_maintype() != "multipart"
    )


def _part_text(part: MimeMessage, defects: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    text = decode_bytes(payload, part.get_content_charset(), defects)
    return html_to_text(text) if part.get_content_type() == "text/html" else plain_to_text(text)


def _attachment(part: MimeMessage, index: int) -> Attachment:
    ctype = part.get_content_type()
    name = decode_header_value(part.get_filename()) if part.get_filename() else ""
    if not name:
        subject = _children(part)[0].get("Subject") if ctype == "message/rfc822" and _children(part) else None
        name = f"{decode_header_value(subject)}.eml" if subject else f"part-{index + 1}"
    omitted = part.get(OMITTED_HEADER)
    if omitted is not None and str(omitted).strip().isdigit():
        size = int(str(omitted).strip())
    elif ctype == "message/rfc822":
        size = sum(len(child.as_bytes()) for child in _children(part))
    else:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
    disposition = str(part.get("Content-Disposition", "")).lower()
    return Attachment(name=name, content_type=ctype, size=size, inline=disposition.startswith("inline"))
