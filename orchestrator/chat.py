"""The conversation with the user, kept in the context store (`chat.messages`) so that it survives
reloads and restarts, and so the web UI follows it through the event log like everything else."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from orchestrator.context_items import ContextItems

__all__ = ["ChatLog", "ChatMessage"]

NAMESPACE = "chat.messages"


class ChatMessage(BaseModel):
    id: str = Field(default_factory=lambda: f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}")
    role: Literal["user", "assistant"]
    text: str
    command: bool = Field(False, description="A chat command (approve, reject, pending) that code answered")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ChatLog:
    def __init__(self, items: ContextItems) -> None:
        self._items = items

    async def add(self, role: Literal["user", "assistant"], text: str, command: bool = False) -> ChatMessage:
        message = ChatMessage(role=role, text=text, command=command)
        await self._items.put(NAMESPACE, message.id, message.model_dump(mode="json"), text, tags=[role])
        return message

    async def recent(self, limit: int = 100) -> list[ChatMessage]:
        """The last `limit` messages, oldest first."""
        items = await self._items.query([NAMESPACE], limit=limit)
        return sorted((ChatMessage.model_validate(item.data) for item in items), key=lambda m: m.id)
