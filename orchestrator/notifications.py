"""The notify server's inbox mirrored into the context store (`notifications.inbox/<id>`), so the UI
and the scheduler follow notifications through the same event log as everything else. It looks again
on every `notify://inbox` update (and every minute), and rewrites only what changed.

It is also the "reminders due" feed: a reminder the notify server fired becomes `signals.reminder/<id>`,
so the scheduler (and a worker it delegates to) can act on it. The notify server already delivered it
to the user, so the scheduler does not notify it again."""

from __future__ import annotations

import hashlib
import json

from orchestrator.context_items import ContextItems
from orchestrator.feeds.ingest import follow
from orchestrator.feeds.signals import Signal
from orchestrator.mcp_clients import ServerConnection

__all__ = ["NotificationMirror"]

NAMESPACE = "notifications.inbox"


class NotificationMirror:
    def __init__(self, notify: ServerConnection, items: ContextItems) -> None:
        self._notify = notify
        self._items = items
        self._seen: dict[str, str] = {}

    async def run(self) -> None:
        await follow(self._notify, "notify://inbox", self.sync)

    async def sync(self) -> int:
        listing = (await self._notify.call_tool("list_notifications", {"limit": 200})).structured or {}
        written = 0
        for notification in listing.get("notifications", []):
            digest = hashlib.sha256(json.dumps(notification, sort_keys=True).encode()).hexdigest()
            if self._seen.get(notification["id"]) == digest:
                continue
            text = f"{notification['title']}\n{notification.get('body', '')}"
            tags = [notification["priority"], "read" if notification.get("read_at") else "unread"]
            await self._items.put(NAMESPACE, notification["id"], notification, text, tags=tags)
            if notification.get("kind") == "reminder" and notification["id"] not in self._seen:
                await self._items.put(**reminder_signal(notification).put_arguments())
            self._seen[notification["id"]] = digest
            written += 1
        return written


def reminder_signal(notification: dict) -> Signal:
    """The signal of a reminder that came due."""
    late = " (fired late: Pepper was not running when it was due)" if notification.get("late") else ""
    return Signal(
        kind="reminder",
        source_id=notification["id"],
        priority=notification.get("priority", "normal"),
        category="reminder",
        summary=f"Reminder: {notification['title']}",
        reasons=[f"due {notification.get('due_at') or notification.get('created_at')}{late}"],
        link=f"notify://notification/{notification['id']}",
    )
