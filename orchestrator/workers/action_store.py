"""Pending actions kept in the context store (`actions.pending`, tagged with their status), so that
they survive restarts and the UI, the CLI and chat all see the same list."""

from __future__ import annotations

from orchestrator.mcp_clients import ServerConnection, ToolCallFailed
from orchestrator.workers.approvals import PendingAction

__all__ = ["ContextActionStore"]

NAMESPACE = "actions.pending"


class ContextActionStore:
    """`ActionStore` over a connection to the context-store server."""

    def __init__(self, context: ServerConnection) -> None:
        self._context = context

    async def save(self, action: PendingAction) -> None:
        await self._context.call_tool(
            "store",
            {
                "namespace": NAMESPACE,
                "id": action.id,
                "data": action.model_dump(mode="json"),
                "text": f"{action.describe()} — {action.reason}",
                "tags": [action.status, action.server],
            },
        )

    async def load(self, action_id: str) -> PendingAction | None:
        try:
            outcome = await self._context.call_tool("get", {"namespace": NAMESPACE, "id": action_id})
        except ToolCallFailed:
            return None
        return PendingAction.model_validate((outcome.structured or {})["data"])

    async def pending(self) -> list[PendingAction]:
        outcome = await self._context.call_tool(
            "query", {"namespaces": [NAMESPACE], "tags": ["pending"], "limit": 1000}
        )
        items = (outcome.structured or {}).get("items", [])
        return [PendingAction.model_validate(item["data"]) for item in items]
