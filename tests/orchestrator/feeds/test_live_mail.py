"""New mail during a first sync's backfill goes ahead of it: the ingest's live lane stores it at once
and the mail feed triages it before its next page, and each change is applied by one lane only."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent, EventLog
from orchestrator.feeds.ingest import MailIngest, follow
from orchestrator.feeds.live_mail import LiveMail
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.runner import run_feed
from orchestrator.mcp_clients import ToolCallTimeout
from orchestrator.scheduler.user_lane import UserLane
from tests.orchestrator.feeds.test_first_sync import ME, NOW, deliver, servers_over

BACKFILL_SIZE = 600


def test_each_change_is_claimed_by_one_lane_only() -> None:
    live = LiveMail()
    assert [c["seq"] for c in live.claim_live([{"seq": 7}, {"seq": 9}])] == [7, 9]
    assert [c["seq"] for c in live.claim_main([{"seq": 6}, {"seq": 7}, {"seq": 8}])] == [6, 8]
    assert live.claim_live([{"seq": 8}, {"seq": 9}]) == []  # passed by the main lane, or taken
    live.release([{"seq": 9}])  # the live write failed: the main lane applies it in turn
    assert [c["seq"] for c in live.claim_main([{"seq": 9}, {"seq": 10}])] == [9, 10]
    assert live.live_claimed == set()


def test_handed_over_mail_is_taken_once_oldest_first() -> None:
    live = LiveMail()
    live.hand_over(["a", "b"])
    live.hand_over(["a", "c"])
    assert live.take() == ["a", "b", "c"] and live.take() == [] and live.handed_over == 3


def deliver_now(root: Path, name: str) -> None:
    """New mail, delivered the way an MDA does (tmp/, then a rename into new/)."""
    message = EmailMessage()
    message["From"], message["To"] = "Grace <grace@example.org>", ME
    message["Subject"], message["Message-ID"] = "Contract today", f"<{name}@example.org>"
    message["Date"] = format_datetime(NOW - timedelta(minutes=1))
    message.set_content("Could you sign the contract today? It is urgent.")
    (root / "tmp" / name).write_bytes(bytes(message))
    os.rename(root / "tmp" / name, root / "new" / name)


async def first_event(log: EventLog, namespace: str, wanted: set[str]) -> None:
    """Return when the log has a write to `namespace` of one of `wanted` (waits on the log)."""
    async with log.follow(None, [namespace]) as stream:
        async for event in stream:
            if event.id in wanted:
                return


@pytest.mark.slow
@pytest.mark.anyio
async def test_new_mail_reaches_signals_while_the_backfill_is_still_running(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    for day in range(3):
        deliver(mail, f"recent{day}", NOW - timedelta(days=day, hours=1), read=True)
    old = {f"old{i}" for i in range(BACKFILL_SIZE)}  # years of read mail: search only
    for i in range(BACKFILL_SIZE):
        deliver(mail, f"old{i}", NOW - timedelta(days=30 + i), read=True)
    async with servers_over(tmp_path) as servers:
        items = ContextItems(servers["context"])
        log = EventLog(servers["context"], idle_poll=1.0)
        live = LiveMail()
        feed = MailFeed(items, [ME], [], now=lambda: NOW, live=live)
        ingest = MailIngest(servers["gmail"], items, page_size=5, log=log, now=lambda: NOW, live=live)
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run_feed, feed, log)
            task_group.start_soon(follow, servers["gmail"], "gmail://inbox", ingest.sync, 5.0)
            task_group.start_soon(follow, servers["gmail"], "gmail://inbox", ingest.sync_live, 5.0)
            with anyio.fail_after(60):
                await first_event(log, "raw.email", old)  # the backfill has begun
            deliver_now(mail, "arrival")
            with anyio.fail_after(60):
                await first_event(log, "signals.email", {"arrival"})
            backfilled = len(await items.get_many("raw.email", sorted(old)))
            assert ingest.progress.phase == "backfill" and backfilled < BACKFILL_SIZE
            assert live.handed_over == 1
            with anyio.fail_after(100):
                await first_event(log, "raw.email", {"old0"})  # the oldest: the backfill's end
            task_group.cancel_scope.cancel()
        events = (await log.read(None, 0, ["raw.email"], limit=1000))["events"]
        assert [event["id"] for event in events].count("arrival") == 1  # applied by one lane only
        signal = await items.get("signals.email", "arrival")
        assert signal is not None and signal.data["summary"]


class OnePageLog:
    """An event log holding one page, then nothing new (enough for `run_feed`)."""

    def __init__(self, ids: tuple[str, ...] = ("old",)) -> None:
        self._handled: dict[str, int] = {}
        self._ids = ids

    @asynccontextmanager
    async def follow(self, consumer: str, namespaces: list[str], **_: object) -> AsyncIterator[OnePageLog]:
        yield self

    async def pages(self) -> AsyncIterator[list[ContextEvent]]:
        yield [
            ContextEvent(seq=n, namespace="raw.email", id=id, op="store", at=0.0)
            for n, id in enumerate(self._ids, start=1)
        ]
        await anyio.sleep_forever()

    note_handled = EventLog.note_handled  # the runner's record of how far it handled
    handled_through = EventLog.handled_through

    async def ack(self, consumer: str, seq: int) -> None:
        self.acked = seq


class HandOverFeed:
    consumer, namespaces = "test.feed", ["raw.email"]

    def __init__(self, live: LiveMail) -> None:
        self.live = live
        self.handled: list[str] = []
        self.urgent = anyio.Event()

    async def handle(self, event: ContextEvent) -> None:
        self.handled.append(event.id)

    async def flush(self) -> None:
        pass

    def urgent_arrival(self) -> anyio.Event | None:
        return self.live.arrival()

    async def handle_urgent(self) -> None:
        taken = self.live.take()
        self.handled += taken
        if taken:
            self.urgent.set()


@pytest.mark.anyio
async def test_new_mail_is_triaged_while_the_feed_yields_to_the_users_message() -> None:
    lane, live = UserLane(patience=600), LiveMail()
    feed = HandOverFeed(live)
    async with lane.serving(), anyio.create_task_group() as task_group:  # the user is being answered
        task_group.start_soon(functools.partial(run_feed, lane=lane), feed, OnePageLog())
        await anyio.wait_all_tasks_blocked()
        assert feed.handled == [] and lane.yields == 1  # the backlog's page waits for the user
        live.hand_over(["new"])
        with anyio.fail_after(10):
            await feed.urgent.wait()
        assert feed.handled == ["new"]  # the new mail did not wait; the old page still does
        task_group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_a_users_message_stops_a_page_between_its_events() -> None:
    """Judging a page is CPU work that never waits: without a turn between its events, a message
    the user sent meanwhile waited for the whole page (a first sync's took ~0.5 s)."""
    lane, feed = UserLane(patience=600), HandOverFeed(LiveMail())
    first_judged, answered = anyio.Event(), anyio.Event()
    seen_while_answering: list[str] = []
    handle = feed.handle

    async def judge(event: ContextEvent) -> None:  # no await: as the rules' triage
        await handle(event)
        first_judged.set()

    feed.handle = judge  # type: ignore[method-assign]

    async def user() -> None:
        await first_judged.wait()
        async with lane.serving():
            await anyio.wait_all_tasks_blocked()
            seen_while_answering.extend(feed.handled)
            await answered.wait()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(user)
        task_group.start_soon(functools.partial(run_feed, lane=lane), feed, OnePageLog(("a", "b", "c")))
        await anyio.wait_all_tasks_blocked()
        assert seen_while_answering == ["a"] and lane.yields == 1  # the page waits for the answer
        answered.set()
        await anyio.wait_all_tasks_blocked()
        assert feed.handled == ["a", "b", "c"]
        task_group.cancel_scope.cancel()


class SlowPageFeed(HandOverFeed):
    """Its page's one event is handled only once `release` is set (a page that takes long)."""

    def __init__(self, live: LiveMail) -> None:
        super().__init__(live)
        self.release = anyio.Event()

    async def handle(self, event: ContextEvent) -> None:
        await self.release.wait()
        await super().handle(event)


@pytest.mark.anyio
async def test_new_mail_is_triaged_while_a_page_of_the_backlog_is_still_being_handled() -> None:
    live = LiveMail()
    feed, log = SlowPageFeed(live), OnePageLog()
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        await anyio.wait_all_tasks_blocked()  # the backlog's page is in hand
        live.hand_over(["new"])
        with anyio.fail_after(10):
            await feed.urgent.wait()
        assert feed.handled == ["new"]  # the page's own event still waits
        feed.release.set()
        await anyio.wait_all_tasks_blocked()  # the page handled and acked, the log waits again
        assert feed.handled == ["new", "old"] and log.acked == 1
        task_group.cancel_scope.cancel()


class FlakyUrgentFeed(HandOverFeed):
    """Its first `handle_urgent` finds the context store not answering: it hands the mail back."""

    def __init__(self, live: LiveMail) -> None:
        super().__init__(live)
        self.failures = 0

    async def handle_urgent(self) -> None:
        if self.failures == 0 and (taken := self.live.take()):
            self.failures += 1
            self.live.hand_over(taken)
            raise ToolCallTimeout("context.get_many did not answer within 30 s")
        await super().handle_urgent()


@pytest.mark.anyio
async def test_new_mail_waits_out_a_server_that_does_not_answer_and_the_feed_goes_on() -> None:
    live = LiveMail()
    feed = FlakyUrgentFeed(live)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(functools.partial(run_feed, retry_after=0.01), feed, OnePageLog())
        live.hand_over(["new"])
        with anyio.fail_after(10):
            await feed.urgent.wait()
        assert feed.failures == 1 and sorted(feed.handled) == ["new", "old"]  # retried; the page went on
        task_group.cancel_scope.cancel()
