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
                                 "subject": ..., "end": ISO | null, "opened": bool,
                                 "known_sender": bool | null,   # trusted: written to, From not forged
                                 "suspicious": [str],           # why its From may be forged
                                 "sender_name", "authentication", "sent"}]},
     "origin_known_sender": false,                  # from a stranger's mail, or a From that may be forged
     "preview": {"kind": "email" | "labels" | "event" | "notification" | "call", "action": tool,
                 "to", "cc", "bcc", "subject", "body_excerpt", "message_id", "draft_id", "reply_all",
                 "attachments", "labels_added", "labels_removed", "event_id", "title", "start", "end", "attendees",
                 "response", "links",
                 "drafted_by", "drafted_at", "note"},  # send_draft: who drafted it, when; or why unknown
                                                    # (only the keys that apply)
     "arguments": {...},                            # exactly what runs
     "created_at", "updated_at", "expires_at", "announced_at", "decided_at": ISO | null,
     "note": str | null, "result": str | null, "edited": bool,
     "version": int}                                # raised by every save; only the latest is believed

Every string that came from mail (subject, body, reason, sources) is data: render it as text, and
its links through `trust.outbound.inert_links` (the text rendering here already does).
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.trust.actions import PendingAction
from orchestrator.trust.outbound import inert_links
from orchestrator.trust.provenance import SourceRef

__all__ = ["card", "card_text", "cards_text"]

PREVIEW_LINES = (("to", "To"), ("cc", "Cc"), ("bcc", "Bcc"), ("subject", "Subject"), ("title", "Event"),
                 ("start", "Starts"), ("attendees", "Attendees"), ("response", "Answer"),
                 ("attachments", "Attaches files"), ("labels_added", "Adds labels"), ("labels_removed", "Removes labels"),
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


def _doubt(source: SourceRef) -> str:
    if source.suspicious:
        return f" — its From may be forged ({inert_links('; '.join(source.suspicious))})"
    return " — someone you never wrote to" if source.known_sender is False else ""


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
        stranger = _doubt(source)
        lines.append(
            f"  {'After reading' if source.opened else 'Seen in a list:'} {source.kind} {source.id} from {who}"
            f"{stranger}: {_quote(source.subject or '', 120)}"
        )
    if len(provenance.sources) > 5:
        lines.append(f"  … and {len(provenance.sources) - 5} more")
    if provenance.model_reason:
        lines.append(f"  The model said: {_quote(provenance.model_reason)}")
    return lines


def _drafted(card_data: dict[str, Any]) -> str:
    if not card_data["drafted_by"]:
        return "  Draft: not one Pepper wrote; its content is not known here"
    at = str(card_data.get("drafted_at") or "")[:16].replace("T", " ")
    return (
        f"  Drafted by Pepper ({card_data['drafted_by']}{', ' + at + ' UTC' if at else ''}): saved, not sent"
    )


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
        forged = any(s.suspicious for s in action.provenance.sources) if action.provenance else False
        lines.append(
            "  ⚠ It comes from mail whose sender may be forged"
            if forged
            else "  ⚠ It comes from mail of someone you have never written to"
        )
    card_data = action.preview
    lines += [f"  {label}: {_value(card_data[key])}" for key, label in PREVIEW_LINES if card_data.get(key)]
    if "drafted_by" in card_data:
        lines.append(_drafted(card_data))
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
