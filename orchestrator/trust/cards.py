"""Pending actions as the user sees them: one JSON card (the UI, `/pepper/api/state`) and one text
rendering (chat `pending`, `pepper-orchestrator status` and `approve`).

The JSON card (`card(action)`), for the UI:

    {"id": "3f2a9c0d1e4b", "server": "gmail", "tool": "send_message", "status": "pending",
     "verification": "signed" | "unverified",      # unverified: an unsigned record; approving re-queues it
     "digest": "<sha256 hex of server, tool, arguments>",   # send it back: POST approvals/{id} {"digest"}
     "count": 3,                                    # identical requests collapsed into this card
     "reason": "sends mail to other people",        # why the capability model gated it
     "requested_by": "worker:stateless",
     "provenance": {"requested_by": "user" | "worker:<name>" | ..., "worker": "worker:<name>" | null,
                    "user_message": str | null,   # the user's chat message when the user asked
                    "task": str | null,            # what the worker was told to do
                    "model_reason": str,            # what the model said: a quote, data, never instructions
                    "sources": [{"kind": "email" | "event" | "signal", "id": ..., "sender": ...,
                                 "subject": ..., "end": ISO | null, "known_sender": bool | null}]},
     "origin_known_sender": false,                  # from mail of someone the user never wrote to
     "preview": {"kind": "email" | "labels" | "event" | "notification" | "call", "action": tool,
                 "to", "cc", "bcc", "subject", "body_excerpt", "message_id", "draft_id", "reply_all",
                 "labels_added", "labels_removed", "event_id", "title", "start", "end", "attendees",
                 "response", "links"},              # only the keys that apply
     "arguments": {...},                            # exactly what runs
     "created_at", "updated_at", "expires_at", "announced_at", "decided_at": ISO | null,
     "note": str | null, "result": str | null, "edited": bool}

Every string that came from mail (subject, body, reason, sources) is data: render it as text, and
its links through `trust.outbound.inert_links` (the text rendering here already does).
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.trust.actions import PendingAction
from orchestrator.trust.outbound import inert_links

__all__ = ["card", "card_text", "cards_text"]

PREVIEW_LINES = (("to", "To"), ("cc", "Cc"), ("bcc", "Bcc"), ("subject", "Subject"), ("title", "Event"),
                 ("start", "Starts"), ("attendees", "Attendees"), ("response", "Answer"),
                 ("labels_added", "Adds labels"), ("labels_removed", "Removes labels"),
                 ("message_id", "Message"), ("draft_id", "Draft"), ("links", "Links"))  # fmt: skip


def card(action: PendingAction) -> dict[str, Any]:
    """The JSON card of the module docstring."""
    data = action.model_dump(mode="json", exclude={"signature"})
    data["verification"] = action.verification
    return data


def _quote(text: Any, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    flat = flat if len(flat) <= limit else flat[:limit] + "…"
    return f"“{inert_links(flat)}”"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(inert_links(str(v)) for v in value) or "—"
    return inert_links(str(value))


def _origin(action: PendingAction) -> list[str]:
    provenance = action.provenance
    if provenance is None:
        return [f"  Asked by {action.requested_by} (no record of what it had read)"]
    through = (
        f" through {provenance.worker}" if provenance.worker not in (None, provenance.requested_by) else ""
    )
    lines = [f"  Asked by {provenance.requested_by}{through}"]
    if provenance.user_message:
        lines.append(f"  Your message: {_quote(provenance.user_message)}")
    if provenance.task:
        lines.append(f"  Task: {_quote(provenance.task, 200)}")
    for source in provenance.sources[:5]:
        who = source.sender or "unknown sender"
        stranger = " — someone you never wrote to" if source.known_sender is False else ""
        lines.append(
            f"  {'After reading' if source.opened else 'Seen in a list:'} {source.kind} {source.id} from {who}"
            f"{stranger}: {_quote(source.subject or '', 120)}"
        )
    if len(provenance.sources) > 5:
        lines.append(f"  … and {len(provenance.sources) - 5} more")
    if provenance.model_reason:
        lines.append(f"  The model said: {_quote(provenance.model_reason)}")
    return lines


def card_text(action: PendingAction) -> str:
    """A few lines: what it does, to whom, why it was gated, who asked after reading what."""
    count = f" ×{action.count}" if action.count > 1 else ""
    head = f"- `{action.id}` {action.server}.{action.tool}{count}: {action.reason or 'needs your approval'}"
    lines = [head]
    if action.verification == "unverified":
        lines.append(
            "  ⚠ UNVERIFIED: stored without Pepper's signature; approving re-queues it for another look"
        )
    if action.origin_known_sender is False:
        lines.append("  ⚠ It comes from mail of someone you have never written to")
    card_data = action.preview
    lines += [f"  {label}: {_value(card_data[key])}" for key, label in PREVIEW_LINES if card_data.get(key)]
    if card_data.get("body_excerpt"):
        lines.append(f"  Text: {_quote(card_data['body_excerpt'], 400)}")
    if not card_data or card_data.get("kind") == "call":
        lines.append(
            f"  Call: {_quote(json.dumps(action.arguments, ensure_ascii=False, sort_keys=True), 400)}"
        )
    lines += _origin(action)
    if action.expires_at:
        lines.append(f"  Expires: {action.expires_at:%Y-%m-%d %H:%M} UTC")
    lines.append(f"  Digest: {action.digest[:12] or 'none'}")
    return "\n".join(lines)


def cards_text(actions: list[PendingAction]) -> str:
    return "\n".join(card_text(action) for action in actions)
