"""Chat commands that code answers, never a model: `approve ID`, `reject ID` and `pending`.

Approving in chat is the same act as clicking Approve in the UI or running `pepper-orchestrator
approve ID`. It is parsed here, from the user's own message, so that no text a model read (or was
fooled by) can approve anything.
"""

from __future__ import annotations

import re

from orchestrator.workers.approvals import ApprovalDesk

__all__ = ["COMMAND", "answer_command"]

COMMAND = re.compile(
    r"^\s*(?P<verb>approve|reject|pending)(?:\s+(?P<id>[A-Za-z0-9_-]{1,64}))?\s*[.!]?\s*$", re.I
)


async def answer_command(desk: ApprovalDesk, text: str) -> str | None:
    """The reply to a command, or None when `text` is not one."""
    match = COMMAND.match(text)
    if match is None:
        return None
    verb, action_id = match.group("verb").lower(), match.group("id")
    if verb == "pending":
        actions = await desk.pending()
        if not actions:
            return "Nothing is waiting for your approval."
        lines = [f"- `{a.id}` {a.describe()} (asked by {a.requested_by})" for a in actions]
        return "Waiting for your approval:\n" + "\n".join(lines) + "\n\nSay `approve ID` or `reject ID`."
    if action_id is None:
        return f"Say which action: `{verb} ID` (`pending` lists them)."
    try:
        action = await desk.approve(action_id) if verb == "approve" else await desk.reject(action_id)
    except (LookupError, ValueError) as exc:
        return f"Could not {verb} it: {exc}"
    outcome = {"done": "done", "failed": f"failed: {action.result}", "rejected": "rejected; nothing was done"}
    return f"{action.describe()}: {outcome.get(action.status, action.status)}"
