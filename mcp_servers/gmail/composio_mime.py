"""Between RFC 5322 messages and the shapes Composio's Gmail tools speak.

`raw_from_composio` turns a message as `GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID` returns it into bytes the
parser reads: `raw` when a toolkit version gives it, else rebuilt from Gmail's `payload` MIME tree
(headers as sent, bodies base64url; an attachment Composio did not download keeps only its size, in
the header the parser reads for omitted parts), else from the flattened fields. `outgoing_arguments`
turns an outgoing message into the arguments of `GMAIL_SEND_EMAIL` and `GMAIL_CREATE_EMAIL_DRAFT`,
refusing what those tools cannot carry (attachments).
"""

from __future__ import annotations

import base64
import email
import email.policy
import uuid
from email.message import EmailMessage
from email.utils import collapse_rfc2231_value, getaddresses
from typing import Any

from .provider import MailProviderError
from .slim import OMITTED_HEADER

__all__ = ["outgoing_arguments", "raw_from_composio"]


def outgoing_arguments(raw: bytes) -> dict[str, Any]:
    """The arguments Composio's send and draft tools take, from an outgoing message."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    attached = [part.get_filename() or part.get_content_type() for part in message.iter_attachments()]
    if attached:
        raise MailProviderError(
            f"Composio's Gmail send and draft tools take a text body, not attachments ({', '.join(attached)}), "
            "so forwarding and sending files are not available with the composio provider: use the gmail "
            "or imap provider for them"
        )
    to = [address for _, address in getaddresses([str(v) for v in message.get_all("To", [])]) if address]
    if not to:
        raise MailProviderError("the message has no recipients: give at least one To address")
    html = message.get_body(preferencelist=("html",)) if message.is_multipart() else None
    body = html or message.get_body(preferencelist=("plain",))
    return {
        "recipient_email": to[0],
        "extra_recipients": to[1:],
        "cc": [a for _, a in getaddresses([str(v) for v in message.get_all("Cc", [])]) if a],
        "bcc": [a for _, a in getaddresses([str(v) for v in message.get_all("Bcc", [])]) if a],
        "subject": str(message["Subject"] or ""),
        "body": body.get_content() if body is not None else "",
        "is_html": html is not None,
        "in_reply_to": str(message["In-Reply-To"]) if message["In-Reply-To"] else None,
    }


def raw_from_composio(found: dict[str, Any]) -> bytes:
    """The RFC 5322 bytes of a message as Composio returns it: `raw` when given, else rebuilt from
    Gmail's `payload` tree, else from the flattened fields (sender, to, subject, messageText).
    A shape that cannot be read raises `ValueError`."""
    try:
        return _rebuilt(found)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"Composio returned a message that cannot be rebuilt ({exc!r})") from exc


def _rebuilt(found: dict[str, Any]) -> bytes:
    if found.get("raw"):
        return base64.urlsafe_b64decode(str(found["raw"]) + "==")
    if isinstance(found.get("payload"), dict) and found["payload"].get("headers"):
        return _mime(found["payload"])
    message = EmailMessage()
    for header, key in (("From", "sender"), ("To", "to"), ("Subject", "subject")):
        if found.get(key):
            message[header] = str(found[key])
    message.set_content(str(found.get("messageText") or ""))
    return bytes(message)


def _mime(part: dict[str, Any]) -> bytes:
    headers = [(h["name"], h["value"]) for h in part.get("headers", [])]
    body = part.get("body") or {}
    if part.get("parts"):
        boundary = _boundary(headers) or f"pepper-{uuid.uuid4().hex}"
        kept = [(n, v) for n, v in headers if n.lower() != "content-type"]
        kept.append(("Content-Type", f'{part.get("mimeType", "multipart/mixed")}; boundary="{boundary}"'))
        children = b"".join(
            b"--" + boundary.encode() + b"\r\n" + _mime(child) + b"\r\n" for child in part["parts"]
        )
        return _head(kept) + b"\r\n" + children + b"--" + boundary.encode() + b"--\r\n"
    kept = [(n, v) for n, v in headers if n.lower() != "content-transfer-encoding"]
    if "data" not in body:  # an attachment Composio did not download: keep its size only
        return _head([*kept, (OMITTED_HEADER, str(body.get("size", 0)))]) + b"\r\n"
    data = base64.urlsafe_b64decode(str(body["data"]) + "==")
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return _head([*kept, ("Content-Transfer-Encoding", "base64")]) + b"\r\n" + encoded


def _head(headers: list[tuple[str, str]]) -> bytes:
    return b"".join(f"{name}: {value}\r\n".encode("utf-8", "surrogateescape") for name, value in headers)


def _boundary(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            message = email.message.Message()
            message["Content-Type"] = value
            boundary = message.get_param("boundary")
            return collapse_rfc2231_value(boundary) if boundary else None
    return None
