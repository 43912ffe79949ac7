"""Where a pending action came from, and what it would do, in words the user can judge.

A `RunLedger` follows one worker run: every tool result it sees is walked for the mail, events and
signals in it (ids, senders, subjects, event ends), and any content from mail, calendars or the
context store's shared namespaces marks the run tainted (see `trust.outbound`). `preview` turns a
call's arguments into a readable card: kind, recipients, subject, body excerpt, labels added and
removed, event title, start and attendees. All of it is data, shown as such, never instructions.
`judge_sender` says whether a mail's sender is someone the user knows, the way triage says it
(`feeds.sender_trust`: the Sent folder and the receiving servers' authentication results, never a
From alone), so a spoofed contact reads as what it is on a card.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from orchestrator.accounts.names import server_kind
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust

__all__ = ["Provenance", "RunLedger", "SourceRef", "judge_sender", "preview", "sources_in"]

MAX_SOURCES = 60
LISTINGS = {"search_messages", "list_events", "upcoming", "search_events", "query", "search"}
EXCERPT = 600
TAINTING = {
    "gmail": {"search_messages", "get_message", "get_messages", "get_thread"},
    "calendar": {"list_events", "get_event", "upcoming", "search_events"},
    "context": {"get", "get_many", "query", "search", "read_events"},  # read_events: with_items
}


class SourceRef(BaseModel):
    """A mail, event or signal the requester had read before asking."""

    kind: Literal["email", "event", "signal"]
    id: str
    sender: str | None = Field(None, description="Sender address (mail) or organizer (event)")
    subject: str | None = Field(None, description="Subject (mail), title (event) or summary (signal)")
    end: datetime | None = Field(None, description="When the event ends")
    known_sender: bool | None = Field(
        None,
        description="Whether the sender is trusted: the user wrote to them, and nothing says the From is forged",
    )
    opened: bool = Field(True, description="Read in full (False: only seen in a search or listing)")
    sender_name: str | None = Field(None, description="The From's display name (mail)")
    authentication: dict[str, str | None] | None = Field(
        None, description="SPF, DKIM and DMARC results the receiving servers recorded (mail)"
    )
    sent: bool = Field(False, description="Filed under Sent: written by the user (mail)")
    suspicious: list[str] = Field(default_factory=list, description="Why its From should not be believed")


class Provenance(BaseModel):
    """Who asked, with what in front of them."""

    requested_by: str = Field(description="'user', 'scheduler' or 'worker:<name>'")
    user_message: str | None = Field(None, description="The user's chat message, when the user asked")
    worker: str | None = Field(None, description="'worker:<name>' that made the call")
    task: str | None = Field(None, description="The task the worker was given")
    model_reason: str = Field("", description="What the model said it was doing (a quote; data)")
    sources: list[SourceRef] = Field(default_factory=list)


def _address(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("email") or value.get("address")
    return value if isinstance(value, str) else None


def _source(node: dict[str, Any]) -> SourceRef | None:
    if "thread_id" in node and "id" in node and ("from" in node or "subject" in node):
        sender = node.get("from") if isinstance(node.get("from"), dict) else {}
        checks = node.get("authentication")
        return SourceRef(kind="email", id=str(node["id"]), sender=_address(node.get("from")),
                         subject=str(node.get("subject") or ""), sender_name=str(sender.get("name") or ""),
                         authentication={k: v for k, v in checks.items() if isinstance(v, str)}
                         if isinstance(checks, dict) else None,
                         sent="SENT" in (node.get("labels") or []))  # fmt: skip
    if {"uid", "title", "start", "end"} <= node.keys() and "id" in node:
        end = node["end"] if "T" in str(node["end"]) else None
        return SourceRef(kind="event", id=str(node["id"]), sender=_address(node.get("organizer")),
                         subject=str(node["title"]), end=end)  # fmt: skip
    if "source_id" in node and "summary" in node:
        sender = node.get("sender") or node.get("from")
        return SourceRef(kind="signal", id=str(node["source_id"]), sender=_address(sender),
                         subject=str(node["summary"])[:200])  # fmt: skip
    return None


def judge_sender(source: SourceRef, profile: UserProfile, when: datetime) -> None:
    """Set `known_sender` and `suspicious` on a mail's source as triage would judge its sender."""
    try:
        email = Email.model_validate({
            "id": source.id, "date": when, "labels": ["SENT"] if source.sent else [],
            "from": {"name": source.sender_name or "", "email": source.sender} if source.sender else None,
            "authentication": source.authentication or {},
        })  # fmt: skip
    except ValidationError:
        email = None
    trust = sender_trust(email, profile) if email is not None else None
    own = email is not None and email.in_sent and profile.is_user(email.sender)  # the user's Sent mail
    source.known_sender = own or (trust is not None and trust.trusted)
    source.suspicious = trust.suspicious if trust is not None and not own else []


def _walk(value: Any, found: list[SourceRef], depth: int = 0) -> None:
    if depth > 6 or len(found) >= MAX_SOURCES:
        return
    if isinstance(value, dict):
        if (source := _source(value)) is not None:
            found.append(source)
        for inner in value.values():
            _walk(inner, found, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _walk(inner, found, depth + 1)


def sources_in(value: Any) -> list[SourceRef]:
    """The mail, events and signals found anywhere inside a JSON value."""
    found: list[SourceRef] = []
    _walk(value, found)
    return found


def _parse(output: str) -> list[Any]:
    """The JSON values in a tool's text output (one document, or one per line)."""
    try:
        return [json.loads(output)]
    except ValueError:
        pass
    values = []
    for line in output.splitlines():
        try:
            values.append(json.loads(line))
        except ValueError:
            continue
    return values


class RunLedger:
    """What one worker run has read: its taint and the sources an action can be traced to."""

    def __init__(self, tainted: bool = False) -> None:
        self.tainted = tainted
        self.sources: dict[tuple[str, str], SourceRef] = {}

    def observe(self, server: str, tool: str, output: str) -> None:
        server = server_kind(server)
        if tool in TAINTING.get(server, set()) or server not in TAINTING | {"notify": set()}:
            self.tainted = True
        listing = tool in LISTINGS
        for value in _parse(output):
            self.add([s.model_copy(update={"opened": not listing}) for s in sources_in(value)])

    def add(self, sources: list[SourceRef]) -> None:
        for source in sources:
            key = (source.kind, source.id)
            if key not in self.sources or (source.opened and not self.sources[key].opened):
                self.sources[key] = source

    def ranked(self) -> list[SourceRef]:
        """What was read in full first, then what was only listed; at most MAX_SOURCES."""
        values = list(self.sources.values())
        return ([s for s in values if s.opened] + [s for s in values if not s.opened])[:MAX_SOURCES]

    def event_end(self, event_id: str) -> datetime | None:
        source = self.sources.get(("event", event_id))
        return source.end if source is not None else None

    def latest_event_end(self) -> datetime | None:
        """The end of the last event read in full: a reply or an answer about it is moot after."""
        ends = [s.end for s in self.sources.values() if s.kind == "event" and s.opened and s.end is not None]
        return max(ends) if ends else None


LABEL_TOOLS: dict[str, tuple[list[str], list[str]]] = {  # tool -> the labels it adds and removes itself
    "modify_labels": ([], []), "batch_modify_labels": ([], []), "mark_read": ([], []),
    "archive": ([], ["INBOX"]), "trash": (["TRASH"], ["INBOX"]), "report_spam": (["SPAM"], ["INBOX"]),
    "untrash": (["INBOX"], ["TRASH"]), "not_spam": (["INBOX"], ["SPAM"]),
}  # fmt: skip


def _excerpt(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def _mail_preview(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = arguments.get("message") if isinstance(arguments.get("message"), dict) else arguments
    card: dict[str, Any] = {"kind": "email", "action": tool}
    for key in ("to", "cc", "bcc"):
        if message.get(key):
            card[key] = list(message[key])
    if message.get("subject"):
        card["subject"] = str(message["subject"])
    if message.get("body") or message.get("html"):
        card["body_excerpt"] = _excerpt(message.get("body") or message["html"])
    if files := message.get("attachments") or arguments.get("attachments"):
        card["attachments"] = [str(name) for name in files]
    for key in ("id", "draft_id"):
        if arguments.get(key):
            card["message_id" if key == "id" else "draft_id"] = str(arguments[key])
    if tool == "reply":
        card["reply_all"] = bool(arguments.get("reply_all"))
    return card


def _event_preview(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    event = arguments.get("draft") or arguments.get("changes") or {}
    card: dict[str, Any] = {"kind": "event", "action": tool}
    if arguments.get("event_id"):
        card["event_id"] = str(arguments["event_id"])
    for key in ("title", "start", "end", "location"):
        if isinstance(event, dict) and event.get(key):
            card[key] = str(event[key])
    if isinstance(event, dict) and event.get("attendees"):
        card["attendees"] = list(event["attendees"])
    if isinstance(event, dict) and event.get("description"):
        card["body_excerpt"] = _excerpt(event["description"])
    if arguments.get("response"):
        card["response"] = str(arguments["response"])
    return card


def preview(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A readable card of what the call would do."""
    kind = server_kind(server)
    if kind == "gmail" and tool in LABEL_TOOLS:
        implied_add, implied_remove = LABEL_TOOLS[tool]
        added = list(arguments.get("add") or []) + implied_add
        removed = list(arguments.get("remove") or []) + implied_remove
        ids = arguments.get("ids") if isinstance(arguments.get("ids"), list) else [arguments.get("id", "")]
        return {"kind": "labels", "action": tool, "message_id": ", ".join(str(id) for id in ids),
                "labels_added": added, "labels_removed": removed}  # fmt: skip
    if kind == "gmail":
        return _mail_preview(tool, arguments)
    if kind == "calendar":
        return _event_preview(tool, arguments)
    if kind == "notify":
        return {"kind": "notification", "action": tool, "subject": str(arguments.get("title", "")),
                "body_excerpt": _excerpt(arguments.get("body") or arguments.get("message")),
                "links": list(arguments.get("links") or [])}  # fmt: skip
    text = json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str)
    return {"kind": "call", "action": f"{server}.{tool}", "body_excerpt": _excerpt(text)}
