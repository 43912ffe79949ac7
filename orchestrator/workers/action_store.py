"""Pending actions kept in the context store (`actions.pending`, tagged with their status), so that
they survive restarts and the UI, the CLI and chat all see the same list."""

from __future__ import annotations

from orchestrator.context_items import ContextItems
from orchestrator.workers.approvals import PendingAction

__all__ = ["ContextActionStore"]

NAMESPACE = "actions.pending"


class ContextActionStore:
    """`ActionStore` over the context store."""

    def __init__(self, items: ContextItems) -> None:
        self._items = items

    async def save(self, action: PendingAction) -> None:
        text = f"{action.describe()} — {action.reason}"
        await self._items.put(
            NAMESPACE, action.id, action.model_dump(mode="json"), text, [action.status, action.server]
        )

    async def load(self, action_id: str) -> PendingAction | None:
        item = await self._items.get(NAMESPACE, action_id)
        return None if item is None else PendingAction.model_validate(item.data)

    async def pending(self) -> list[PendingAction]:
        items = await self._items.query([NAMESPACE], tags=["pending"], limit=1000)
        return [PendingAction.model_validate(item.data) for item in items]
