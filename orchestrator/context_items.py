"""Typed calls to the context store's item tools over a shared `ServerConnection`.

The one place that knows the shapes of `store`, `get`, `query` and `delete` results, so the ingest
bridge, the feeds, pending actions and worker memory all read and write items the same way.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from orchestrator.mcp_clients import ToolCaller, ToolCallFailed

__all__ = ["ContextItems", "StoredItem", "store_item"]


class StoredItem(BaseModel):
    """An item as the store answers it. `data` and `metadata` arrive as parsed JSON and are taken
    as they are (checking them again as `JsonValue` cost 7x the rest, on every page of mail)."""

    namespace: str
    id: str
    data: Any = None
    text: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


def store_item(
    namespace: str,
    item_id: str,
    data: Any,
    text: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    ttl_seconds: float | None = None,
) -> dict[str, Any]:
    """The context store's `store` arguments for one item (an item of a `store_many` call as well)."""
    arguments: dict[str, Any] = {"namespace": namespace, "id": item_id, "data": data}
    optional = {"text": text, "tags": tags, "metadata": metadata, "ttl_seconds": ttl_seconds}
    arguments.update({key: value for key, value in optional.items() if value})
    return arguments


class ContextItems:
    def __init__(self, context: ToolCaller) -> None:
        self.connection = context

    async def get(self, namespace: str, item_id: str) -> StoredItem | None:
        """The item, or None when there is none with that id (an unreachable store still raises)."""
        try:
            outcome = await self.connection.call_tool("get", {"namespace": namespace, "id": item_id})
        except ToolCallFailed as exc:
            if _is_missing(exc):
                return None
            raise
        return StoredItem.model_validate(outcome.structured)

    async def get_many(self, namespace: str, item_ids: list[str]) -> dict[str, StoredItem]:
        """The items of `namespace` with these ids that exist, by id, read in calls of up to 1000."""
        found: dict[str, StoredItem] = {}
        for start in range(0, len(item_ids), 1000):
            arguments = {"namespace": namespace, "ids": item_ids[start : start + 1000]}
            outcome = await self.connection.call_tool("get_many", arguments)
            for raw in (outcome.structured or {}).get("items", []):
                item = StoredItem.model_validate(raw)
                found[item.id] = item
        return found

    async def put(
        self,
        namespace: str,
        item_id: str,
        data: Any,
        text: str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        ttl_seconds: float | None = None,
    ) -> int:
        """Store (upsert) the item; returns the seq of its event."""
        arguments = store_item(namespace, item_id, data, text, tags, metadata, ttl_seconds)
        outcome = await self.connection.call_tool("store", arguments)
        return int((outcome.structured or {}).get("seq", 0))

    async def put_many(self, items: list[dict[str, Any]]) -> int:
        """Store items (`store` arguments each) in one transaction; returns how many."""
        if not items:
            return 0
        outcome = await self.connection.call_tool("store_many", {"items": items})
        return int((outcome.structured or {}).get("count", 0))

    async def delete(self, namespace: str, item_id: str) -> None:
        try:
            await self.connection.call_tool("delete", {"namespace": namespace, "id": item_id})
        except ToolCallFailed as exc:
            if not _is_missing(exc):
                raise

    async def search(
        self, text: str, namespaces: list[str], tags: list[str] | None = None, limit: int = 10
    ) -> list[StoredItem]:
        """Hybrid search, or keyword search when the store runs without an embedder."""
        filters = {"namespaces": namespaces, "tags": tags or [], "limit": limit}
        try:
            outcome = await self.connection.call_tool("search", {"text": text, "mode": "hybrid", **filters})
        except ToolCallFailed as exc:
            if "semantic search is off" not in str(exc):
                raise
            outcome = await self.connection.call_tool("search", {"text": text, "mode": "lexical", **filters})
        return [StoredItem.model_validate(hit["item"]) for hit in (outcome.structured or {}).get("hits", [])]

    async def query(
        self, namespaces: list[str], tags: list[str] | None = None, limit: int = 50
    ) -> list[StoredItem]:
        outcome = await self.connection.call_tool(
            "query", {"namespaces": namespaces, "tags": tags or [], "limit": limit}
        )
        return [StoredItem.model_validate(item) for item in (outcome.structured or {}).get("items", [])]


def _is_missing(error: ToolCallFailed) -> bool:
    """The store's own wording for an unknown id (`no item 'x' in namespace 'y'`)."""
    return ": no item " in str(error)
