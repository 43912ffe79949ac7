"""The conversation's mail index follows the context store's event log: new, changed and deleted
mail is seen without re-reading the mailbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.mail_index import MailIndex
from orchestrator.conversation.services import Services
from tests.orchestrator.conversation.test_actions import store_mail

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]

AT = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


async def test_the_index_sees_new_changed_and_deleted_mail(connections) -> None:
    items = ContextItems(connections["context"])
    services = Services(connections, items)
    index = MailIndex()
    await store_mail(items, "a", ("Ann", "ann@example.com"), "First", "one", AT)
    assert [m["subject"] for m in await index.messages(services)] == ["First"]
    await store_mail(items, "b", ("Bob", "bob@example.com"), "Second", "two", AT + timedelta(hours=1))
    await store_mail(items, "a", ("Ann", "ann@example.com"), "First, edited", "one", AT)
    assert [m["subject"] for m in await index.messages(services)] == ["Second", "First, edited"]
    await items.delete("raw.email", "b")
    assert [m["id"] for m in await index.messages(services)] == ["a"]
    assert "text" not in (await index.messages(services))[0], "the index keeps headers only"


async def test_a_burst_of_mail_is_caught_up_in_pages_without_reading_the_mailbox_again(connections) -> None:
    items = ContextItems(connections["context"])
    services = Services(connections, items)
    index = MailIndex()
    await store_mail(items, "first", ("Ann", "ann@example.com"), "First", "one", AT)
    await index.messages(services)
    for n in range(60):  # more than a question's catch-up used to apply before reloading everything
        await store_mail(
            items, f"m{n}", ("Bob", "bob@example.com"), f"Note {n}", "text", AT + timedelta(minutes=n)
        )
    calls = dict(connections["context"].calls)
    messages = await index.messages(services)
    assert len(messages) == 61 and messages[0]["subject"] == "Note 59"
    made = {tool: count - calls.get(tool, 0) for tool, count in connections["context"].calls.items()}
    assert made.get("query", 0) == 0 and made["get_many"] == 1 and made["read_events"] == 1
