"""The conversation's mail index follows the context store's event log: new, changed and deleted
mail is seen without re-reading the mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest

from orchestrator.context_items import ContextItems, store_item
from orchestrator.conversation import mail_index
from orchestrator.conversation.mail_index import MailIndex
from orchestrator.conversation.services import Services
from orchestrator.event_log import EventLog
from tests.orchestrator.conversation.test_actions import store_mail
from tests.orchestrator.feeds.test_first_sync import deliver, servers_over

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
    assert made.get("query", 0) == 0 and made.get("get_many", 0) == 0, "the page's mail comes with it"
    assert made["read_events"] == 1


async def test_a_page_of_triage_signals_paces_the_follower_like_a_burst_of_mail(
    connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The follower also wakes for `signals.email` (the "waiting on you" feed reads the triage's
    asks): a page of them (a first sync's triage) paces it like a burst of mail."""
    monkeypatch.setattr(mail_index, "FOLLOW_SECONDS", 2.0)
    items = ContextItems(connections["context"])
    services = Services(connections, items)
    index, looked, looks = MailIndex(), [], [anyio.Event() for _ in range(4)]

    async def changed(messages: list) -> None:
        looked.append(anyio.current_time())
        looks[min(len(looked), 4) - 1].set()

    async with anyio.create_task_group() as task_group:
        log = EventLog(connections["context"], idle_poll=0.2)
        task_group.start_soon(index.follow, services, log, changed, ("raw.email", "signals.email"))
        with anyio.fail_after(10):
            await looks[0].wait()
        page = [store_item("signals.email", f"s{n}", {"n": n}) for n in range(mail_index.POURING)]
        await items.put_many(page)
        with anyio.fail_after(10):
            await looks[1].wait()
        await store_mail(items, "new", ("Ann", "ann@example.com"), "New", "one", AT)
        with anyio.fail_after(10):
            await looks[2].wait()
        task_group.cancel_scope.cancel()
    assert looked[2] - looked[1] >= 1.9  # the new mail waited out the pace the page set


async def test_a_catch_up_longer_than_the_pace_goes_straight_on(
    connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause after a burst is what is left of FOLLOW_SECONDS, never less than nothing (a
    negative sleep stopped the whole orchestrator in a 100,000-message first sync)."""
    monkeypatch.setattr(mail_index, "FOLLOW_SECONDS", 0.0)
    items = ContextItems(connections["context"])
    index, looks = MailIndex(), [anyio.Event(), anyio.Event()]

    async def changed(messages: list) -> None:
        (looks[1] if looks[0].is_set() else looks[0]).set()

    async with anyio.create_task_group() as task_group:
        log = EventLog(connections["context"], idle_poll=0.2)
        task_group.start_soon(index.follow, Services(connections, items), log, changed, ("signals.email",))
        with anyio.fail_after(10):
            await looks[0].wait()
            await items.put_many(
                [store_item("signals.email", f"s{n}", {"n": n}) for n in range(mail_index.POURING)]
            )
            await looks[1].wait()
            await items.put("signals.email", "one-more", {"n": 0})
            await anyio.sleep(0.5)  # the follower went on past its pause (it raised here before)
        task_group.cancel_scope.cancel()


async def test_a_load_after_a_first_sync_holds_the_newest_mail_not_the_last_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync writes the recent mail first and years of older mail after it: the newest items
    written are old mail. A load (a restart, a gap in the log) asks the mail server which messages
    are the newest and reads those, so "what's new" and "waiting on you" see this week's mail."""
    monkeypatch.setattr(mail_index, "KEPT", 5)
    now = datetime.now(UTC)
    for n in range(3):
        deliver(tmp_path / "mail", f"recent{n}", now - timedelta(hours=n + 1), read=False)
    async with servers_over(tmp_path) as live:
        items = ContextItems(live["context"])
        listed = (await live["gmail"].call_tool("search_messages", {"query": ""})).structured["messages"]
        assert len(listed) == 3
        for message in listed:  # the sync's first writes: the recent mail, by the server's ids
            at = datetime.fromisoformat(message["date"])
            await store_mail(items, message["id"], ("Sender", "s@example.org"), message["subject"], "hi", at)
        for n in range(12):  # then the backfill of old mail
            await store_mail(
                items, f"old{n}", ("List", "list@example.org"), f"Old {n}", "x", now - timedelta(days=400 + n)
            )
        loaded = await MailIndex().messages(Services(live, items))
        assert [m["subject"] for m in loaded] == [
            "Note recent0",
            "Note recent1",
            "Note recent2",
            "Old 7",
            "Old 8",
        ]
        without_server = await MailIndex().messages(Services({"context": live["context"]}, items))
        assert [m["subject"] for m in without_server] == [f"Old {n}" for n in range(7, 12)], (
            "the newest written"
        )
