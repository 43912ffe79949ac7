"""The capability model: what a call to any tool Pepper can reach does, decided from the tool and its
arguments, never from the model's say-so or the server's own annotations.

`classify(server, tool, arguments)` answers a `Verdict`: `read` (nothing changes), `local_write` (a
change the user can undo, inside their own mailbox, calendar, notifications or Pepper's memory) or
`outward` (it reaches other people, destroys, or hides mail: send, reply, forward, trash, spam, archive,
invitations, answers to invitations, deletions). Outward calls become pending actions. The table lists
every tool of Pepper's own servers (`gmail`, `calendar`, `notify`, `context`) and the scheduler's own
tools (server `pepper`); a tool missing from it (a new tool, or one of a server the user added) is
outward until classified, either here or by the user's `tool_classes` setting. Argument patterns
refine a tool's class: `modify_labels` (and `batch_modify_labels`) adding TRASH or SPAM or removing
INBOX is as outward as `trash` itself; an event with attendees sends invitations; a message sent
with attachments names the files on its card. Deleting a draft or a label and reporting spam are
outward (they destroy or hide); saving an attachment, changing a draft, untrash, not spam, and
creating or renaming a label are local writes. The outbound data rules (`trust.outbound`) then
apply to every call's arguments whatever its class.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from orchestrator.accounts.names import server_kind

__all__ = ["TABLE", "Kind", "Verdict", "classify", "is_classified"]

Kind = Literal["read", "local_write", "outward"]
RANK: dict[str, int] = {"read": 0, "local_write": 1, "outward": 2}


class Verdict(BaseModel):
    """What a call does, and why Pepper thinks so (shown on approval cards)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    reason: str

    def at_least(self, other: Verdict) -> Verdict:
        """The stricter of the two verdicts."""
        return other if RANK[other.kind] > RANK[self.kind] else self


Rule = Verdict | Callable[[dict[str, Any]], Verdict]

READ = Verdict(kind="read", reason="only reads")
HIDING = re.compile(
    r"(?:^|[/.\]\s])(?:trash|bin|deleted( items| messages)?|spam|junk( e-?mail)?|archive|all mail)$", re.I
)
"""Labels (or IMAP folders: `[Gmail]/Trash`, `Junk`, `Deleted Items`) that take mail out of sight."""


def _local(reason: str) -> Verdict:
    return Verdict(kind="local_write", reason=reason)


def _outward(reason: str) -> Verdict:
    return Verdict(kind="outward", reason=reason)


def _labels(arguments: dict[str, Any]) -> Verdict:
    added = {str(label).strip() for label in arguments.get("add") or []}
    removed = {str(label).strip().upper() for label in arguments.get("remove") or []}
    if hidden := sorted(label for label in added if HIDING.search(label)):
        return _outward(f"adds {', '.join(hidden)}: the mail leaves the inbox for the trash or spam")
    if "INBOX" in removed:
        return _outward("removes INBOX: the mail disappears from the inbox (archive)")
    return _local("changes labels, which the user can change back")


def _invites(people: list[Any] | None, what: str) -> Verdict:
    if people:
        return _outward(f"{what} with attendees: they receive an invitation or an update")
    return _local(f"{what} in the user's own calendar, without attendees")


def _create_event(arguments: dict[str, Any]) -> Verdict:
    draft = arguments.get("draft") if isinstance(arguments.get("draft"), dict) else arguments
    return _invites(draft.get("attendees"), "creates an event")


def _sends(what: str) -> Rule:
    def rule(arguments: dict[str, Any]) -> Verdict:
        message = arguments.get("message") if isinstance(arguments.get("message"), dict) else arguments
        files = [str(name) for name in (message.get("attachments") or arguments.get("attachments") or [])]
        if files:
            return _outward(
                f"{what}, attaching {len(files)} file(s) from the user's disk: {', '.join(files)}"
            )
        return _outward(what)

    return rule


GMAIL: dict[str, Rule] = {
    "search_messages": READ,
    "get_message": READ,
    "get_messages": READ,
    "get_thread": READ,
    "list_changes": READ,
    "get_account_status": READ,
    "list_labels": READ,
    "modify_labels": _labels,
    "mark_read": _local("marks mail read or unread"),
    "archive": _outward("archives: the mail disappears from the inbox"),
    "trash": _outward("moves mail to the trash"),
    "create_draft": _local("saves a draft; nothing is sent"),
    "send_draft": _outward("sends a draft to its recipients"),
    "send_message": _sends("sends mail to other people"),
    "reply": _sends("sends a reply"),
    "forward": _outward("forwards mail to other people"),
    "list_attachments": READ,
    "save_attachment": _local("writes an attachment to a new file in the user's files folder"),
    "list_drafts": READ,
    "update_draft": _local("changes a draft; nothing is sent"),
    "delete_draft": _outward("deletes a draft for good"),
    "untrash": _local("moves mail from the trash back to the inbox"),
    "not_spam": _local("moves mail from spam back to the inbox"),
    "report_spam": _outward("reports mail as spam: it leaves the inbox for spam"),
    "create_label": _local("creates a label"),
    "rename_label": _local("renames a label, which the user can rename back"),
    "delete_label": _outward("deletes a label: every message that has it loses it"),
    "batch_modify_labels": _labels,
}
CALENDAR: dict[str, Rule] = {
    "list_events": READ,
    "get_event": READ,
    "upcoming": READ,
    "search_events": READ,
    "find_free_slots": READ,
    "list_calendars": READ,
    "list_changes": READ,
    "create_event": _create_event,
    "update_event": _outward("changes an event: its attendees (if any) receive the update"),
    "delete_event": _outward("deletes an event (attendees, if any, receive a cancellation)"),
    "respond_to_invite": _outward("answers an invitation: the organizer receives the answer"),
    "quick_add_event": _local("creates an event in the user's own calendar, without attendees"),
    "move_event": _outward("moves an event to another calendar: whoever shares that calendar sees it"),
}
NOTIFY: dict[str, Rule] = {
    "send_notification": _local("notifies the user on their own channels"),
    "send_notifications": _local("notifies the user on their own channels"),
    "list_notifications": READ,
    "mark_read": _local("marks notifications read"),
    "snooze": _local("snoozes a notification or a reminder"),
    "schedule_reminder": _local("schedules a reminder for the user"),
    "list_reminders": READ,
    "cancel_reminder": _local("cancels one of the user's reminders"),
    "daily_digest": _local("schedules the user's daily digest"),
}
CONTEXT: dict[str, Rule] = {
    "get": READ,
    "get_many": READ,
    "query": READ,
    "search": READ,
    "read_events": READ,
    "store": _local("writes Pepper's memory (namespaces are checked separately)"),
    "store_many": _local("writes Pepper's memory (namespaces are checked separately)"),
    "delete": _local("deletes from Pepper's memory (namespaces are checked separately)"),
    "ack": _local("moves a consumer's cursor"),
}
SCHEDULER: dict[str, Rule] = {
    "send_to_user": _local("answers the user in the chat"),
    "snooze_item": _local("snoozes a card until a time"),
    "mark_done_item": _local("puts a card away as done"),
    "mark_read_item": _local("marks mail read, which the user can change back"),
    "list_reminders": READ,
    "cancel_reminder": _local("cancels one of the user's reminders"),
    "digest": _local("sends or times the user's own digest"),
    "draft_reply": _local("writes a reply that waits on the approval desk; nothing is sent"),
    "notify": _local("notifies the user on their own channels"),
    "delegate": READ,
    "search_context": READ,
    "wait": READ,
}
TABLE: dict[str, dict[str, Rule]] = {
    "gmail": GMAIL,
    "calendar": CALENDAR,
    "notify": NOTIFY,
    "context": CONTEXT,
    "pepper": SCHEDULER,
}


def is_classified(server: str, tool: str) -> bool:
    return tool in TABLE.get(server_kind(server), {})


def classify(
    server: str,
    tool: str,
    arguments: Mapping[str, Any] | None = None,
    extra: Mapping[str, Mapping[str, Kind]] | None = None,
) -> Verdict:
    """What calling `server.tool` with `arguments` does. `extra` is the user's own classification of
    tools Pepper does not know (`tool_classes` in the settings); it never overrides the table."""
    rule = TABLE.get(server_kind(server), {}).get(tool)  # an account's server: by its kind
    if rule is None:
        kind = (extra or {}).get(server, {}).get(tool)
        if kind is None:
            return _outward(f"{server}.{tool} is not classified: it runs only after approval")
        return Verdict(kind=kind, reason=f"classified as {kind} in the user's settings")
    return rule if isinstance(rule, Verdict) else rule(dict(arguments or {}))
