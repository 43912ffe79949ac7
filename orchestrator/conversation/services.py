"""What the conversation engine's actions reach: Pepper's MCP servers (the same operations the LLM
mode's tools run), the approval desk for anything irreversible, and the profile; plus `Ref`, one
thing Pepper showed the user that a later "the first one" or "Tom's mail" can point at."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import (
    RemoteTool,
    ServerConnection,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)
from orchestrator.profile import ProfileBook
from orchestrator.triage.ranker_book import RankerBook
from orchestrator.trust.desk import ApprovalDesk

__all__ = ["ActionError", "Ref", "Services", "user_clock"]


class ActionError(Exception):
    """An action could not be done; the message says why, in words for the user."""


@dataclass(frozen=True)
class Ref:
    kind: str  # "email" | "notification" | "reminder" | "event" | "signal"
    id: str
    title: str
    person: str = ""  # who it is from (name and address, lower case), for "Tom's mail"
    namespace: str = ""  # where the item lives in the context store, when it does
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Services:
    connections: Mapping[str, ServerConnection]
    items: ContextItems
    desk: ApprovalDesk | None = None
    tools: Mapping[tuple[str, str], RemoteTool] = field(default_factory=dict)
    profiles: ProfileBook | None = None
    user_addresses: list[str] = field(default_factory=list)
    timezone: str | None = None  # IANA name, passed to the notify server with reminders
    memo: dict[str, Any] = field(default_factory=dict)  # what an action keeps between questions
    ranker: RankerBook | None = None  # the Now list's ranker, taught by corrections

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The tool's structured result; a failure becomes an `ActionError` the user can read."""
        connection = self.connections.get(server)
        if connection is None:
            raise ActionError(f"the {server} server is not configured, so I cannot do that")
        try:
            outcome = await connection.call_tool(tool, arguments)
        except ToolCallFailed as exc:
            raise ActionError(str(exc)) from exc
        except (ServerUnavailable, ToolCallTimeout) as exc:
            raise ActionError(f"the {server} server did not answer ({exc}); try again in a moment") from exc
        return outcome.structured or {"text": outcome.text}


def user_clock(zone_name: str | None) -> Callable[[], datetime]:
    """Now, in the user's timezone (the system's when none is configured)."""
    zone = ZoneInfo(zone_name) if zone_name else None
    return lambda: datetime.now(zone).astimezone(zone) if zone else datetime.now().astimezone()
