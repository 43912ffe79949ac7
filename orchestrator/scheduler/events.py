"""The events the scheduler reacts to, and their order of importance."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Priority(IntEnum):
    """Lower is more urgent, so that priorities sort the way they are served."""

    URGENT = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


class EventKind(StrEnum):
    USER_MESSAGE = "user_msg"
    SIGNAL = "signal"
    REMINDER = "reminder"
    TOOL_RESULT = "tool_result"


class SchedulerEvent(BaseModel):
    """Something that happened and may deserve a step: who said what, how urgent it is."""

    kind: EventKind
    content: str
    priority: Priority = Priority.NORMAL
    source: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def order_key(self) -> tuple[int, int]:
        """User messages first, then by priority (FIFO within a level is the queue's business)."""
        return (0 if self.kind is EventKind.USER_MESSAGE else 1, int(self.priority))
