"""The shapes the notify server hands out: notifications, their deliveries, reminders, results.

Pydantic models shared by the store, the engine and the MCP tools. Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "CHANNELS",
    "Channel",
    "Delivery",
    "DigestSchedule",
    "Notification",
    "NotificationList",
    "OutgoingNotification",
    "Priority",
    "Reminder",
    "ReminderList",
    "SendResult",
]

Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["inbox", "desktop", "webhook", "email"]
CHANNELS: tuple[Channel, ...] = ("inbox", "desktop", "webhook", "email")
DeliveryStatus = Literal["pending", "sending", "sent", "failed"]


class Delivery(BaseModel):
    """One channel's attempt to bring a notification to the user."""

    channel: Channel
    status: DeliveryStatus = Field(description="pending (queued or retrying), sent, or failed (gave up)")
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class Notification(BaseModel):
    id: str
    title: str
    body: str
    priority: Priority
    source: str
    links: list[str] = Field(default_factory=list)
    dedupe_key: str | None = None
    dedupe_count: int = Field(1, description="How many sends this notification stands for")
    created_at: datetime
    deliver_at: datetime = Field(description="When it reaches the user: later if held or snoozed")
    read_at: datetime | None = None
    reminder_id: str | None = None
    late: bool = Field(False, description="A reminder that fired after its due time")
    due_at: datetime | None = Field(None, description="For a reminder: when it was due")
    kind: Literal["notification", "reminder", "digest"] = "notification"
    deliveries: list[Delivery] = Field(default_factory=list)


class OutgoingNotification(BaseModel):
    """What a caller asks to send (checked by `checks.check_notification`)."""

    title: str = Field(description="One line the user sees first")
    body: str = Field("", description="Details; at most 64 KiB of UTF-8")
    priority: Priority = Field("normal", description="low/normal wait out quiet hours; high/urgent do not")
    source: str = Field("mcp", description="Who is notifying (gmail, calendar...); rate-limited per source")
    links: list[str] = Field(default_factory=list, description="http(s) or mailto URLs to act on")
    dedupe_key: str | None = Field(
        None, description="Same key within the dedupe window: counted, not re-sent"
    )


class SendResult(BaseModel):
    notification: Notification
    deduplicated: bool = Field(
        description="True when an earlier notification with this dedupe_key was counted"
    )
    held_until: datetime | None = Field(None, description="Set when quiet hours hold it back")


class NotificationList(BaseModel):
    notifications: list[Notification]
    unread: int = Field(description="Unread notifications delivered to the inbox")
    held: int = Field(description="Notifications waiting for quiet hours or a snooze to end")


class Reminder(BaseModel):
    id: str
    message: str
    priority: Priority
    timezone: str
    repeat: str | None = Field(None, description="RRULE of a repeating reminder")
    next_fire_at: datetime | None
    status: Literal["active", "done", "cancelled"]
    created_at: datetime
    fire_count: int = 0
    last_fired_at: datetime | None = None
    kind: Literal["reminder", "digest"] = "reminder"


class ReminderList(BaseModel):
    reminders: list[Reminder]


class DigestSchedule(BaseModel):
    reminder: Reminder
    channels: list[Channel] = Field(description="Channels the digest goes to")
