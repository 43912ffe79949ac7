"""An in-memory Gmail account behind the Composio Gmail tools, for the fake Composio endpoint.

Each handler takes the tool's `arguments` and returns its `data`, in the shapes the adapter expects
from Composio's Gmail toolkit: `messageId`/`threadId`/`labelIds` message objects carrying Gmail's
`payload` MIME tree, Gmail's own history records, and `response_data`-wrapped answers for sending
(as older toolkit versions do). Unknown ids fail as Gmail's 404 does, through `ToolFailure`.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from tests.support.composio_server import Handler, ToolFailure

__all__ = ["FakeGmail"]

SYSTEM = ["INBOX", "UNREAD", "STARRED", "SENT", "DRAFT", "TRASH", "SPAM", "IMPORTANT"]


@dataclass
class _Stored:
    raw: bytes
    label_ids: list[str]
    thread_id: str
    internal_date: int


@dataclass
class FakeGmail:
    """One mailbox: messages, labels, drafts and a history log with Gmail's numbering."""

    address: str = "me@example.org"
    messages: dict[str, _Stored] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: {name: name for name in SYSTEM})
    drafts: dict[str, str] = field(default_factory=dict)  # draft id -> message id
    history: list[dict[str, Any]] = field(default_factory=list)
    history_id: int = 1000
    oldest_history: int = 1000
    sent: list[dict[str, Any]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def deliver(self, raw: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD"), thread_id: str = "") -> str:
        """A message arrives (as Gmail would file it); returns its id."""
        id = f"m{next(self._ids):04d}"
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        date = parsedate_to_datetime(str(parsed["Date"])) if parsed["Date"] else None
        millis = int(date.timestamp() * 1000) if date else 1_700_000_000_000
        self.messages[id] = _Stored(raw, list(labels), thread_id or f"t{id}", millis)
        self._record("messagesAdded", id)
        return id

    def expire_history(self) -> None:
        """Forget every history record, as Gmail does after about a week."""
        self.history.clear()
        self.oldest_history = self.history_id + 1

    def _record(self, kind: str, id: str) -> None:
        self.history_id += 1
        message = {"id": id, "threadId": self.messages[id].thread_id if id in self.messages else ""}
        if id in self.messages:
            message["labelIds"] = list(self.messages[id].label_ids)
        self.history.append({"id": str(self.history_id), kind: [{"message": message}]})

    def _get(self, id: str) -> _Stored:
        if id not in self.messages:
            raise ToolFailure(
                f"<HttpError 404 when requesting message {id}: Requested entity was not found.>"
            )
        return self.messages[id]

    def _summary(self, id: str) -> dict[str, Any]:
        stored = self.messages[id]
        return {"messageId": id, "threadId": stored.thread_id, "labelIds": list(stored.label_ids)}

    # -- tools -----------------------------------------------------------------------------------

    def get_profile(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"emailAddress": self.address, "messagesTotal": len(self.messages),
                "historyId": str(self.history_id)}  # fmt: skip

    def fetch_emails(self, arguments: dict[str, Any]) -> dict[str, Any]:
        ids = sorted(self.messages, key=lambda i: self.messages[i].internal_date, reverse=True)
        if not arguments.get("include_spam_trash"):
            ids = [i for i in ids if not {"SPAM", "TRASH"} & set(self.messages[i].label_ids)]
        query = str(arguments.get("query") or "")
        if query.startswith("rfc822msgid:"):
            wanted = query.partition(":")[2]
            ids = [i for i in ids if _header(self.messages[i].raw, "Message-ID") == wanted]
        elif query:
            raise ToolFailure(f"the fake supports only rfc822msgid: queries, not {query!r}")
        start = int(arguments.get("page_token") or 0)
        size = int(arguments.get("max_results") or 1)
        page = ids[start : start + size]
        found: dict[str, Any] = {"messages": [self._summary(i) for i in page], "resultSizeEstimate": len(ids)}
        if start + size < len(ids):
            found["nextPageToken"] = str(start + size)
        return found

    def fetch_message(self, arguments: dict[str, Any]) -> dict[str, Any]:
        stored = self._get(arguments["message_id"])
        parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
        return {
            **self._summary(arguments["message_id"]),
            "messageTimestamp": str(stored.internal_date),
            "subject": str(parsed["Subject"] or ""),
            "sender": str(parsed["From"] or ""),
            "payload": payload_of(email.message_from_bytes(stored.raw)),  # headers as sent
        }

    def list_history(self, arguments: dict[str, Any]) -> dict[str, Any]:
        start = int(arguments["start_history_id"])
        if start < self.oldest_history - 1:
            raise ToolFailure("<HttpError 404: Requested entity was not found.> (startHistoryId too old)")
        return {
            "history": [h for h in self.history if int(h["id"]) > start],
            "historyId": str(self.history_id),
        }

    def list_labels(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"labels": [{"id": id, "name": name, "type": "system" if id in SYSTEM else "user"}
                           for id, name in self.labels.items()]}  # fmt: skip

    def create_label(self, arguments: dict[str, Any]) -> dict[str, Any]:
        id = f"Label_{len(self.labels)}"
        self.labels[id] = arguments["label_name"]
        return {"id": id, "name": arguments["label_name"]}

    def add_label(self, arguments: dict[str, Any]) -> dict[str, Any]:
        stored = self._get(arguments["message_id"])
        for label in arguments.get("add_label_ids") or []:
            if label not in self.labels:
                raise ToolFailure(f"<HttpError 400: Invalid label: {label}>")
            if label not in stored.label_ids:
                stored.label_ids.append(label)
        remove = set(arguments.get("remove_label_ids") or [])
        stored.label_ids = [label for label in stored.label_ids if label not in remove]
        self._record("labelsAdded", arguments["message_id"])
        return self._summary(arguments["message_id"])

    def _compose(self, arguments: dict[str, Any]) -> bytes:
        message = EmailMessage()
        message["From"] = self.address
        message["To"] = ", ".join([arguments["recipient_email"], *(arguments.get("extra_recipients") or [])])
        if arguments.get("cc"):
            message["Cc"] = ", ".join(arguments["cc"])
        message["Subject"] = arguments.get("subject") or ""
        message["Date"] = "Tue, 24 Nov 2026 10:00:00 +0000"
        message.set_content(
            arguments.get("body") or "", subtype="html" if arguments.get("is_html") else "plain"
        )
        return bytes(message)

    def reply_to_thread(self, arguments: dict[str, Any]) -> dict[str, Any]:
        thread = arguments["thread_id"]
        if not any(stored.thread_id == thread for stored in self.messages.values()):
            raise ToolFailure("<HttpError 404: Requested entity was not found.>")
        self.sent.append(arguments)
        composed = {**arguments, "body": arguments["message_body"], "subject": "Re: thread"}
        id = self.deliver(self._compose(composed), ("SENT",), thread_id=thread)
        return {"id": id, "threadId": thread, "labelIds": ["SENT"]}

    def send_email(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if not arguments.get("recipient_email"):
            raise ToolFailure("recipient_email is required")
        self.sent.append(arguments)
        id = self.deliver(self._compose(arguments), ("SENT",))
        return {"response_data": {"id": id, "threadId": self.messages[id].thread_id, "labelIds": ["SENT"]}}

    def create_draft(self, arguments: dict[str, Any]) -> dict[str, Any]:
        id = self.deliver(self._compose(arguments), ("DRAFT",), thread_id=arguments.get("thread_id") or "")
        draft_id = f"r{id}"
        self.drafts[draft_id] = id
        return {
            "response_data": {"id": draft_id, "message": {"id": id, "threadId": self.messages[id].thread_id}}
        }

    def delete_draft(self, arguments: dict[str, Any]) -> dict[str, Any]:
        id = self.drafts.pop(arguments["draft_id"], None)
        if id is None:
            raise ToolFailure("<HttpError 404: Requested entity was not found.>")
        del self.messages[id]
        self._record("messagesDeleted", id)
        return {}

    def move_to_trash(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.add_label({"message_id": arguments["message_id"], "add_label_ids": ["TRASH"],
                               "remove_label_ids": ["INBOX"]})  # fmt: skip

    def handlers(self) -> dict[str, Handler]:
        return {
            "GMAIL_GET_PROFILE": self.get_profile,
            "GMAIL_FETCH_EMAILS": self.fetch_emails,
            "GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID": self.fetch_message,
            "GMAIL_LIST_HISTORY": self.list_history,
            "GMAIL_LIST_LABELS": self.list_labels,
            "GMAIL_CREATE_LABEL": self.create_label,
            "GMAIL_ADD_LABEL_TO_EMAIL": self.add_label,
            "GMAIL_SEND_EMAIL": self.send_email,
            "GMAIL_REPLY_TO_THREAD": self.reply_to_thread,
            "GMAIL_CREATE_EMAIL_DRAFT": self.create_draft,
            "GMAIL_DELETE_DRAFT": self.delete_draft,
            "GMAIL_MOVE_TO_TRASH": self.move_to_trash,
        }


def payload_of(part: email.message.Message, part_id: str = "") -> dict[str, Any]:
    """Gmail's `payload` MIME tree of a message: headers as sent, bodies base64url, attachments by id."""
    found: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": [{"name": name, "value": str(value)} for name, value in part.items()],
    }
    children = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(children, list):
        found["body"] = {"size": 0}
        found["parts"] = [payload_of(child, f"{part_id}.{i}".lstrip(".")) for i, child in enumerate(children)]
    elif part.get_filename() or part.get_content_type() == "message/rfc822":
        size = len(part.get_payload(decode=True) or b"") if not part.is_multipart() else len(bytes(part))
        found["body"] = {"attachmentId": f"att-{part_id}", "size": size}
    else:
        data = part.get_payload(decode=True) or b""
        found["body"] = {"size": len(data), "data": base64.urlsafe_b64encode(data).decode()}
    return found


def _header(raw: bytes, name: str) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)[name] or "")


def recipients(arguments: dict[str, Any]) -> list[str]:
    """Every address a send/draft call addresses."""
    listed = [arguments.get("recipient_email") or "", *(arguments.get("extra_recipients") or [])]
    listed += [*(arguments.get("cc") or []), *(arguments.get("bcc") or [])]
    return [address for _, address in getaddresses(listed) if address]
