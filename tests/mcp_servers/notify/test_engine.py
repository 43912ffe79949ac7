"""The engine under a manual clock: dedupe, rate limits, quiet hours, reminders and clock jumps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta

import anyio
import pytest

from mcp_servers.notify.checks import NotifyInputError
from mcp_servers.notify.clock import ManualClock
from mcp_servers.notify.engine import Notifier
from mcp_servers.notify.models import SendResult
from mcp_servers.notify.settings import NotifySettings
from mcp_servers.notify.store import NewReminder

from .conftest import START, Events

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(settings: NotifySettings, clock: ManualClock, events: Events) -> AsyncIterator[Notifier]:
    notifier = Notifier(settings, clock, on_inbox=events.on_inbox, on_delivery=events.on_delivery)
    async with notifier.running():
        yield notifier


async def test_send_counts_concurrent_duplicates_as_one_notification(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    results: list[SendResult] = []

    async def send() -> None:
        results.append(await notifier.send("Build failed", "main is red", source="ci", dedupe_key="ci-123"))

    async with running(settings, clock, events) as notifier:
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(send)
        stored = notifier.store.list_notifications(clock.now(), False, None, 10)
    assert [r.deduplicated for r in results].count(False) == 1
    assert len({r.notification.id for r in results}) == 1
    assert len(stored) == 1 and stored[0].dedupe_count == 200
    assert len(events.inbox) == 1


async def test_send_refuses_source_over_its_rate_limit_with_retry_hint(
    db_path, clock: ManualClock, events: Events
) -> None:
    settings = NotifySettings(db_path=db_path, desktop="off", rate_limit_per_minute=5)
    async with running(settings, clock, events) as notifier:
        for i in range(5):
            await notifier.send(f"item {i}", source="noisy")
        with pytest.raises(NotifyInputError, match="'noisy' already sent 5 notifications.*retry in 60 s"):
            await notifier.send("one more", source="noisy")
        await notifier.send("unrelated", source="quiet")
        clock.advance(timedelta(seconds=61))
        await notifier.send("after a minute", source="noisy")


async def test_quiet_hours_hold_low_and_normal_until_they_end_while_high_and_urgent_go_through(
    db_path, events: Events
) -> None:
    settings = NotifySettings(
        db_path=db_path, desktop="off", quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0)
    )
    clock = ManualClock(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    morning = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    async with running(settings, clock, events) as notifier:
        low = await notifier.send("newsletter", priority="low")
        normal = await notifier.send("lunch menu", priority="normal")
        high = await notifier.send("server down", priority="high")
        urgent = await notifier.send("smoke alarm", priority="urgent")
        assert low.held_until == morning and normal.held_until == morning
        assert high.held_until is None and urgent.held_until is None
        assert events.inbox == [high.notification.id, urgent.notification.id]
        assert notifier.store.counts(clock.now()) == (2, 2)

        clock.set(morning)
        await events.wait_for(lambda: len(events.inbox) == 4)
        assert set(events.inbox[2:]) == {low.notification.id, normal.notification.id}
        assert notifier.store.counts(clock.now()) == (4, 0)


async def test_reminder_fires_once_at_its_time(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    async with running(settings, clock, events) as notifier:
        reminder = await notifier.add_reminder(
            NewReminder("stand up", "high", "UTC", START + timedelta(minutes=10))
        )
        clock.advance(timedelta(minutes=9))
        assert await notifier.fire_due_reminders() == []
        clock.advance(timedelta(minutes=1))
        await events.wait_for(lambda: len(events.inbox) == 1)
        [fired] = notifier.store.list_notifications(clock.now(), False, None, 10)
        assert (fired.title, fired.reminder_id, fired.late, fired.kind) == (
            "stand up",
            reminder.id,
            False,
            "reminder",
        )
        assert await notifier.fire_due_reminders() == []
        assert notifier.store.get_reminder(reminder.id).status == "done"  # type: ignore[union-attr]


async def test_reminder_due_while_stopped_fires_once_on_start_marked_late(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    async with running(settings, clock, events) as notifier:
        await notifier.add_reminder(NewReminder("call mum", "high", "UTC", START + timedelta(minutes=5)))
    clock.advance(timedelta(hours=2))
    async with running(settings, clock, events) as notifier:
        [fired] = notifier.store.list_notifications(clock.now(), False, None, 10)
    async with running(settings, clock, events) as notifier:
        assert notifier.store.list_notifications(clock.now(), False, None, 10) == [fired]
    assert fired.late and "late by 115 min" in fired.body
    assert fired.due_at == START + timedelta(minutes=5)


async def test_clock_jump_forward_fires_missed_repeats_once_then_resumes(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    nine = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    async with running(settings, clock, events) as notifier:
        reminder = await notifier.add_reminder(NewReminder("pills", "high", "UTC", nine, repeat="FREQ=DAILY"))
        clock.set(nine + timedelta(days=3, hours=2))  # skips the 11th, 12th, 13th and 14th at 09:00
        await events.wait_for(lambda: len(events.inbox) == 1)
        assert await notifier.fire_due_reminders() == []
        [fired] = notifier.store.list_notifications(clock.now(), False, None, 10)
        after = notifier.store.get_reminder(reminder.id)
    assert fired.late and fired.due_at == nine
    assert after is not None and after.next_fire_at == nine + timedelta(days=4)
    assert after.fire_count == 1


async def test_clock_jump_backward_fires_nothing_twice(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    async with running(settings, clock, events) as notifier:
        await notifier.add_reminder(NewReminder("water plants", "high", "UTC", START + timedelta(minutes=1)))
        clock.advance(timedelta(minutes=2))
        await events.wait_for(lambda: len(events.inbox) == 1)
        clock.set(START - timedelta(hours=1))
        assert await notifier.fire_due_reminders() == []
        clock.set(START + timedelta(minutes=5))
        assert await notifier.fire_due_reminders() == []
        assert len(notifier.store.list_notifications(clock.now(), False, None, 10)) == 1
    assert len(events.inbox) == 1


async def test_digest_collects_unread_into_one_message(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    async with running(settings, clock, events) as notifier:
        assert await notifier.send_digest_now() is None
        first = await notifier.send("invoice due", source="gmail")
        await notifier.send("meeting moved", source="calendar", priority="high")
        notifier.store.mark_read([first.notification.id], clock.now())
        digest = await notifier.send_digest_now()
    assert digest is not None and digest.kind == "digest"
    assert digest.title == "Digest: 1 unread notification"
    assert "[high] meeting moved (calendar" in digest.body and "invoice" not in digest.body


async def test_normal_reminder_in_quiet_hours_is_held_until_they_end(db_path, events: Events) -> None:
    settings = NotifySettings(
        db_path=db_path, desktop="off", quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0)
    )
    clock = ManualClock(datetime(2026, 3, 10, 21, 0, tzinfo=UTC))
    async with running(settings, clock, events) as notifier:
        await notifier.add_reminder(
            NewReminder("bins out", "normal", "UTC", datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
        )
        await notifier.add_reminder(
            NewReminder("meds", "high", "UTC", datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
        )
        clock.set(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
        await events.wait_for(lambda: len(events.inbox) == 1)
        assert notifier.store.counts(clock.now()) == (1, 1)
        clock.set(datetime(2026, 3, 11, 7, 0, tzinfo=UTC))
        await events.wait_for(lambda: len(events.inbox) == 2)
        titles = [n.title for n in notifier.store.list_notifications(clock.now(), False, None, 10)]
    assert sorted(titles) == ["bins out", "meds"]


async def test_scheduled_digest_fires_daily_with_unread_and_skips_when_empty(
    settings: NotifySettings, clock: ManualClock, events: Events
) -> None:
    eight = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    async with running(settings, clock, events) as notifier:
        digest = await notifier.add_reminder(
            NewReminder("Daily digest", "normal", "UTC", eight, "FREQ=DAILY", "digest", ["inbox"])
        )
        await notifier.send("quarterly report", source="gmail")
        clock.set(eight)
        await events.wait_for(lambda: len(events.inbox) == 2)
        [fired, _] = notifier.store.list_notifications(clock.now(), False, None, 10)
        notifier.store.mark_read(None, clock.now())
        clock.set(eight + timedelta(days=1))
        assert await notifier.fire_due_reminders() == []
        after = notifier.store.get_reminder(digest.id)
    assert fired.kind == "digest" and "quarterly report" in fired.body
    assert after is not None and after.next_fire_at == eight + timedelta(days=2) and after.fire_count == 1
