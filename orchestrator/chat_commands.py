"""Chat commands that code answers, never a model: approvals and the user's profile.

- `pending`, `approve ID`, `reject ID`: what waits for approval, and the decision on it;
- `profile`: what Pepper knows about the user;
- `my name is NAME`, `my role is ROLE`;
- `add vip ADDRESS`, `remove vip ADDRESS`;
- `add project NAME`, `remove project NAME`, `rename project OLD to NEW`;
- `remember that FACT`, `forget WORDS` (drops the remembered facts that contain WORDS).

Approving in chat is the same act as clicking Approve in the UI or running `pepper-orchestrator
approve ID`. It is parsed here, from the user's own message, so that no text a model read (or was
fooled by) can approve anything or rewrite the profile.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from orchestrator.profile import ProfileBook, ProfileChange, ProfileEditError, profile_view, render_profile
from orchestrator.trust.cards import card_text
from orchestrator.trust.desk import ApprovalDesk

__all__ = ["COMMAND", "answer_command", "is_command"]

COMMAND = re.compile(
    r"^\s*(?P<verb>approve|reject|pending)(?:\s+(?P<id>[A-Za-z0-9_-]{1,64}))?\s*[.!]?\s*$", re.I
)
END = r"\s*[.!]?\s*$"
SHOW_PROFILE = re.compile(r"^\s*(?:show\s+)?(?:my\s+)?profile\s*[?.!]?\s*$", re.I)
PROFILE_COMMANDS: list[tuple[str, re.Pattern[str]]] = [
    ("set_name", re.compile(r"^\s*my name is\s+(?P<value>.+?)" + END, re.I)),
    ("set_role", re.compile(r"^\s*my (?:role|job|title) is\s+(?P<value>.+?)" + END, re.I)),
    ("vip", re.compile(r"^\s*(?P<op>add|remove)\s+(?:a\s+)?vip\s+(?P<value>.+?)" + END, re.I)),
    (
        "rename_project",
        re.compile(r"^\s*rename\s+(?:the\s+)?project\s+(?P<value>.+?)\s+to\s+(?P<to>.+?)" + END, re.I),
    ),
    ("project", re.compile(r"^\s*(?P<op>add|remove)\s+(?:the\s+)?project\s+(?P<value>.+?)" + END, re.I)),
    ("remember", re.compile(r"^\s*remember(?:\s+that)?\s+(?P<value>.+?)" + END, re.I | re.S)),
    ("forget", re.compile(r"^\s*forget(?:\s+that|\s+about)?\s+(?P<value>.+?)" + END, re.I | re.S)),
]


def is_command(text: str) -> bool:
    """Whether code answers `text` (then the scheduler and its model never see it)."""
    return bool(COMMAND.match(text) or SHOW_PROFILE.match(text) or profile_change(text))


def profile_change(text: str) -> ProfileChange | None:
    """The profile edit `text` asks for, or None when it asks for none."""
    for action, pattern in PROFILE_COMMANDS:
        if (match := pattern.match(text)) is None:
            continue
        groups = match.groupdict()
        if action in ("vip", "project"):
            action = f"{groups['op'].lower()}_{action}"
        return ProfileChange(action=action, value=groups["value"][:300], to=(groups.get("to") or None))
    return None


async def answer_command(desk: ApprovalDesk, text: str, profiles: ProfileBook | None = None) -> str | None:
    """The reply to a command, or None when `text` is not one."""
    if profiles is not None and (SHOW_PROFILE.match(text) or profile_change(text)):
        return await _answer_profile(profiles, text)
    match = COMMAND.match(text)
    if match is None:
        return None
    verb, action_id = match.group("verb").lower(), match.group("id")
    if verb == "pending":
        actions = await desk.pending()
        if not actions:
            return "Nothing is waiting for your approval."
        cards = "\n".join(card_text(action) for action in actions)
        return f"Waiting for your approval:\n{cards}\n\nSay `approve ID` or `reject ID`."
    if action_id is None:
        return f"Say which action: `{verb} ID` (`pending` lists them)."
    try:
        action = await desk.approve(action_id) if verb == "approve" else await desk.reject(action_id)
    except (LookupError, ValueError) as exc:
        return f"Could not {verb} it: {exc}"
    outcome = {"done": "done", "failed": f"failed: {action.result}", "rejected": "rejected; nothing was done"}
    return f"{card_text(action)}\n→ {outcome.get(action.status, action.status)}"


async def _answer_profile(profiles: ProfileBook, text: str) -> str:
    change = profile_change(text)
    if change is None:
        return render_profile(profile_view(await profiles.load(), datetime.now(UTC)))
    try:
        return await profiles.apply(change)
    except ProfileEditError as exc:
        return f"I could not change your profile: {exc}."
