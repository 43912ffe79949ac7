"""Pending actions: the gate between a worker and anything that cannot be undone.

`needs_approval` decides from the tool itself, never from the model: a tool the server marks
destructive, or one on the list of irreversible tools (sending, forwarding, trashing, deleting,
answering invites; creating or changing an event that invites other people). Such a call is stored as a
`PendingAction` in the context store (`actions.pending`) and the worker is told it was queued. Only
`ApprovalDesk.approve` runs it, with the arguments the user saw (or edited).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from orchestrator.mcp_clients import RemoteTool

__all__ = ["ActionStore", "ApprovalDesk", "PendingAction", "needs_approval"]

IRREVERSIBLE = {
    "gmail": {"send_message", "send_draft", "reply", "forward", "trash"},
    "calendar": {"delete_event", "respond_to_invite"},
}
INVITING = {"calendar": {"create_event", "update_event"}}

Status = Literal["pending", "approved", "rejected", "done", "failed"]


def needs_approval(tool: RemoteTool, arguments: dict[str, Any]) -> bool:
    """True when running this call could do something the user cannot take back."""
    if tool.destructive or tool.name in IRREVERSIBLE.get(tool.server, set()):
        return True
    return tool.name in INVITING.get(tool.server, set()) and bool(arguments.get("attendees"))


class PendingAction(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    server: str
    tool: str
    arguments: dict[str, Any]
    requested_by: str = Field(description="The worker or feed that asked for it")
    reason: str = Field("", description="What the worker said it was doing")
    status: Status = "pending"
    result: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    decided_at: datetime | None = None

    def describe(self) -> str:
        return f"{self.server}.{self.tool}({json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)})"


class ActionStore(Protocol):
    async def save(self, action: PendingAction) -> None: ...
    async def load(self, action_id: str) -> PendingAction | None: ...
    async def pending(self) -> list[PendingAction]: ...


ToolCaller = Callable[[RemoteTool, dict[str, Any]], Awaitable[str]]


class ApprovalDesk:
    """Queues irreversible calls, and runs them once the user says yes."""

    def __init__(
        self, store: ActionStore, call: ToolCaller, tools: dict[tuple[str, str], RemoteTool]
    ) -> None:
        self._store = store
        self._call = call
        self._tools = tools

    async def request(
        self, tool: RemoteTool, arguments: dict[str, Any], requested_by: str, reason: str = ""
    ) -> PendingAction:
        action = PendingAction(
            server=tool.server, tool=tool.name, arguments=arguments, requested_by=requested_by, reason=reason
        )
        await self._store.save(action)
        return action

    async def approve(self, action_id: str, edited_arguments: dict[str, Any] | None = None) -> PendingAction:
        """Run the action (with the user's edits, if any) and record the outcome."""
        action = await self._pending(action_id)
        tool = self._tools.get((action.server, action.tool))
        if tool is None:
            raise LookupError(
                f"action {action_id} needs {action.server}.{action.tool}, which is not connected"
            )
        if edited_arguments is not None:
            action.arguments = edited_arguments
        action.status, action.decided_at = "approved", datetime.now(UTC)
        await self._store.save(action)
        try:
            action.result = await self._call(tool, action.arguments)
            action.status = "done"
        except Exception as exc:  # the outcome, good or bad, is recorded for the user to see
            action.result, action.status = f"{type(exc).__name__}: {exc}", "failed"
        await self._store.save(action)
        return action

    async def pending(self) -> list[PendingAction]:
        """Actions waiting for the user, oldest first."""
        return sorted(await self._store.pending(), key=lambda action: action.created_at)

    async def reject(self, action_id: str) -> PendingAction:
        action = await self._pending(action_id)
        action.status, action.decided_at = "rejected", datetime.now(UTC)
        await self._store.save(action)
        return action

    async def _pending(self, action_id: str) -> PendingAction:
        action = await self._store.load(action_id)
        if action is None:
            raise LookupError(f"there is no action {action_id!r}")
        if action.status != "pending":
            raise ValueError(f"action {action_id} is already {action.status}")
        return action
