"""The notification mirror and the reminders-due feed, against the real notify and context servers."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.notifications import NotificationMirror

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "notify")]


async def test_mirror_copies_notifications_once_and_turns_due_reminders_into_signals(connections) -> None:
    items = ContextItems(connections["context"])
    notify = connections["notify"]
    await notify.call_tool("send_notification", {"title": "Build broke", "priority": "high", "source": "ci"})
    await notify.call_tool("schedule_reminder", {"message": "Call the dentist", "in": "1s"})
    mirror = NotificationMirror(notify, items)
    with anyio.fail_after(20):
        while not await items.query(["signals.reminder"]):
            await mirror.sync()
            await anyio.sleep(0.2)
    [reminder] = await items.query(["signals.reminder"])
    assert reminder.data["summary"] == "Reminder: Call the dentist"
    assert reminder.data["kind"] == "reminder" and reminder.data["link"].startswith("notify://notification/")
    titles = sorted(item.data["title"] for item in await items.query(["notifications.inbox"]))
    assert titles == ["Build broke", "Call the dentist"]
    assert await mirror.sync() == 0  # nothing changed: nothing rewritten, no second reminder signal
    assert len(await items.query(["signals.reminder"])) == 1
