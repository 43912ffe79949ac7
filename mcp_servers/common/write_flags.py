"""The two write flags of the servers that act on a provider (mail, calendar), and the one check.

Without a flag a server is read-only. `--allow-write` (setting `allow_write`) permits reversible
changes at the provider: labels, read state, archive, drafts, the user's own events without other
people. `--allow-send` (setting `allow_send`) permits what reaches other people or cannot be undone:
sending, replying, forwarding, trash and spam, invitations and their answers, deleting or changing
events that other people are invited to. `--allow-send` implies `--allow-write`: a server trusted to
write to other people is trusted to file its own drafts. A refused tool answers a `ToolError` that
names the flag and the environment variable that turn it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fastmcp.exceptions import ToolError

__all__ = ["Needs", "WriteGate"]


class Needs(Enum):
    """What a call needs: a reversible change (`WRITE`) or one that reaches others or destroys (`SEND`)."""

    WRITE = ("--allow-write", "ALLOW_WRITE", "reversible changes at the provider")
    SEND = ("--allow-send", "ALLOW_SEND", "what reaches other people or cannot be undone")


@dataclass(frozen=True)
class WriteGate:
    """The flags a server was started with; `require` refuses what they do not allow."""

    allow_write: bool
    allow_send: bool
    env_prefix: str  # e.g. "PEPPER_GMAIL_": the variable named in the refusal

    def allows(self, needs: Needs) -> bool:
        if needs is Needs.SEND:
            return self.allow_send
        return self.allow_write or self.allow_send

    def require(self, needs: Needs, action: str) -> None:
        """Raise a `ToolError` naming the missing flag unless `action` is allowed."""
        if self.allows(needs):
            return
        flag, variable, covers = needs.value
        raise ToolError(
            f"{action} needs {flag}: this server was started without it, so it refuses {covers}. "
            f"Restart the server with {flag} (or {self.env_prefix}{variable}=true) to allow it"
        )
