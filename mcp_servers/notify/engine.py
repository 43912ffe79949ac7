"""The notify engine: sending, holding, deduplicating, firing reminders, and draining the outbox.

`Notifier` owns the store and two background loops started by `running()`: one fires reminders when
they fall due, one drains the durable outbox (the deliveries table) to the push channels. Each
delivery runs in its own task under a per-channel limit and a time limit, so a slow or failing
channel never holds up another; failures are retried with exponential backoff and then marked
failed, and every attempt is recorded on the notification.

Time comes from an injectable clock. Loops never wait longer than `tick_seconds`, so a wall-clock
jump is noticed within a tick. A jump forward fires every reminder it skipped, once, marked late,
and a repeating reminder that missed several occurrences fires once and resumes at its next future
occurrence. A jump backward fires nothing again: a reminder's next time is advanced in the same
transaction that records its notification.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import anyio
from anyio.abc import TaskGroup

from mcp_servers.common.background import background

from .channels import DeliveryError, Sender
from .checks import NotifyInputError, check_notification
from .clock import Clock
from .errors import StorageError
from .models import Channel, Delivery, Notification, OutgoingNotification, Priority, Reminder, SendResult
from .settings import NotifySettings
from .store import NewNotification, NewReminder, RateLimited, Store
from .when import next_occurrence, parse_zone, quiet_hours_end

__all__ = ["DeliveryListener", "InboxListener", "Notifier"]

logger = logging.getLogger(__name__)

InboxListener = Callable[[Sequence[str]], Awaitable[None]]
"""Called with the ids of notifications that just reached the inbox."""

DeliveryListener = Callable[[str, Channel, str | None], Awaitable[None]]
"""Called after each delivery attempt with (notification id, channel, error or None)."""

_HELD_PRIORITIES = {"low", "normal"}
_CLAIM_BATCH = 200


class Notifier:
    """Notifications and reminders over one store; use inside `async with notifier.running()`."""

    def __init__(
        self,
        settings: NotifySettings,
        clock: Clock,
        on_inbox: InboxListener | None = None,
        on_delivery: DeliveryListener | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.senders: dict[Channel, Sender] = {}
        self._on_inbox = on_inbox
        self._on_delivery = on_delivery
        self._store: Store | None = None
        self._limiters: dict[Channel, anyio.CapacityLimiter] = {}
        self._outbox_wake = anyio.Event()
        self._reminder_wake = anyio.Event()
        self._fire_lock = anyio.Lock()

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the notifier is not running: use `async with notifier.running()`")
        return self._store

    @property
    def channels(self) -> list[Channel]:
        """Where an ordinary notification goes: the inbox, desktop and webhook (email gets digests)."""
        return ["inbox", *(c for c in ("desktop", "webhook") if c in self.senders)]

    @property
    def digest_channels(self) -> list[Channel]:
        """Where the digest goes: the inbox and every enabled push channel, email included."""
        return ["inbox", *self.senders]

    async def announce(self, ids: list[str]) -> None:
        """Tell followers of the inbox, and of each of these notifications, that they changed."""
        if self._on_inbox is not None:
            await self._on_inbox(ids)

    def wake_outbox(self) -> None:
        """Look at the outbox now (after a change made straight in the store)."""
        self._outbox_wake.set()

    @asynccontextmanager
    async def running(self, senders: dict[Channel, Sender] | None = None) -> AsyncIterator[Notifier]:
        """Open the store, fire what fell due while stopped, and run the loops until exit."""
        self.senders = dict(senders or {})
        self._limiters = {channel: anyio.CapacityLimiter(8) for channel in self.senders}
        self._store = await anyio.to_thread.run_sync(Store, self.settings.db_path)
        try:
            await self.fire_due_reminders()
            async with background(self._start_loops):
                yield self
        finally:
            store, self._store = self._store, None
            await anyio.to_thread.run_sync(store.close)

    async def _start_loops(self, tasks: TaskGroup) -> None:
        tasks.start_soon(self._reminder_loop)
        tasks.start_soon(self._outbox_loop, tasks)

    # sending -------------------------------------------------------------------------------------

    async def send(
        self,
        title: str,
        body: str = "",
        priority: Priority = "normal",
        source: str = "mcp",
        links: Sequence[str] = (),
        dedupe_key: str | None = None,
    ) -> SendResult:
        """Record a notification, deliver it now or hold it for quiet hours; a duplicate is counted."""
        outgoing = OutgoingNotification(
            title=title, body=body, priority=priority, source=source, links=list(links), dedupe_key=dedupe_key
        )
        [result] = await self.send_many([outgoing])
        if isinstance(result, NotifyInputError):
            raise result
        return result

    async def send_many(self, items: Sequence[OutgoingNotification]) -> list[SendResult | NotifyInputError]:
        """`send` for a batch in one transaction; all are checked first, rate-limited ones are reported."""
        news = []
        for index, item in enumerate(items):
            try:
                title, source = check_notification(
                    item.title, item.body, item.source, item.links, item.dedupe_key
                )
            except NotifyInputError as exc:
                raise NotifyInputError(
                    f"notification {index}: {exc}" if len(items) > 1 else str(exc)
                ) from exc
            news.append((item, title, source))
        now = self.clock.now()
        quiet_until = self._quiet_until(now)
        new = [
            NewNotification(
                title, item.body, item.priority, source, tuple(item.links), item.dedupe_key,
                deliver_at=quiet_until if item.priority in _HELD_PRIORITIES else None,
            )
            for item, title, source in news
        ]  # fmt: skip
        s = self.settings
        stored = await anyio.to_thread.run_sync(
            self.store.add_notifications,
            new,
            self.channels,
            now,
            s.dedupe_window_seconds,
            s.rate_limit_per_minute,
        )
        results: list[SendResult | NotifyInputError] = []
        for outcome, request in zip(stored, new, strict=True):
            if isinstance(outcome, RateLimited):
                results.append(_rate_limit_error(outcome))
                continue
            notification, duplicate = outcome
            results.append(
                SendResult(notification=notification, deduplicated=duplicate, held_until=request.deliver_at)
            )
        await self._delivered(
            [r.notification for r in results if isinstance(r, SendResult) and not r.deduplicated], now
        )
        return results

    def _quiet_until(self, now: datetime) -> datetime | None:
        s = self.settings
        return quiet_hours_end(now, s.zone, s.quiet_hours_start, s.quiet_hours_end)

    async def _delivered(self, notifications: Sequence[Notification], now: datetime) -> None:
        """Tell inbox followers and wake the outbox for freshly stored notifications."""
        arrived = [n.id for n in notifications if n.deliver_at <= now]
        if arrived:
            await self.announce(arrived)
        if any(d.status == "pending" for n in notifications for d in n.deliveries):
            self._outbox_wake.set()

    async def send_digest_now(self) -> Notification | None:
        """One digest of what is unread, to the digest channels now; None when nothing is unread."""
        now = self.clock.now()
        unread = await anyio.to_thread.run_sync(self.store.unread_for_digest, now, 100)
        if not unread:
            return None
        new = _digest(unread, now, "normal", reminder_id=None, late=False, due=None)
        notification, _ = await anyio.to_thread.run_sync(
            self.store.add_notification, new, self.digest_channels, now, 0.0, None
        )
        await self._delivered([notification], now)
        return notification

    # reminders -----------------------------------------------------------------------------------

    async def add_reminder(self, new: NewReminder) -> Reminder:
        reminder = await anyio.to_thread.run_sync(self.store.add_reminder, new, self.clock.now())
        self._reminder_wake.set()
        return reminder

    async def reschedule_reminder(self, reminder_id: str, when: datetime) -> Reminder | None:
        reminder = await anyio.to_thread.run_sync(self.store.reschedule_reminder, reminder_id, when)
        self._reminder_wake.set()
        return reminder

    async def fire_due_reminders(self) -> list[Notification]:
        """Fire every reminder whose time has come, each exactly once; returns what was sent."""
        async with self._fire_lock:
            now = self.clock.now()
            fired = []
            for reminder in await anyio.to_thread.run_sync(self.store.due_reminders, now):
                notification = await self._fire(reminder, now)
                if notification is not None:
                    fired.append(notification)
                    await self._delivered([notification], now)
            return fired

    async def _fire(self, reminder: Reminder, now: datetime) -> Notification | None:
        _, anchor, digest_channels = await anyio.to_thread.run_sync(self.store.reminder_details, reminder.id)
        zone = parse_zone(reminder.timezone)
        following = next_occurrence(reminder.repeat, anchor, zone, now) if reminder.repeat else None
        due = reminder.next_fire_at or now
        late = (now - due).total_seconds() > self.settings.late_after_seconds
        if reminder.kind == "digest":
            new = await self._digest_notification(reminder, now, due, late)
            channels = [c for c in digest_channels or self.channels if c == "inbox" or c in self.senders]
        else:
            new = self._reminder_notification(reminder, now, due, late)
            channels = self.channels
        return await anyio.to_thread.run_sync(
            self.store.fire_reminder, reminder, new, channels, now, following
        )

    def _reminder_notification(
        self, reminder: Reminder, now: datetime, due: datetime, late: bool
    ) -> NewNotification:
        zone = parse_zone(reminder.timezone)
        body = f"Reminder due {due.astimezone(zone):%Y-%m-%d %H:%M %Z}"
        if late:
            body += f" (late by {_human(now - due)}: the assistant was not running or the clock jumped)"
        held = self._quiet_until(now) if reminder.priority in _HELD_PRIORITIES else None
        return NewNotification(
            reminder.message, body, reminder.priority, "reminder", deliver_at=held,
            reminder_id=reminder.id, late=late, due_at=due, kind="reminder",
        )  # fmt: skip

    async def _digest_notification(
        self, reminder: Reminder, now: datetime, due: datetime, late: bool
    ) -> NewNotification | None:
        unread = await anyio.to_thread.run_sync(self.store.unread_for_digest, now, 100)
        if not unread:
            return None
        return _digest(unread, now, reminder.priority, reminder.id, late, due)

    async def _reminder_loop(self) -> None:
        while True:
            next_at: datetime | None = None
            try:
                await self.fire_due_reminders()
                next_at = await anyio.to_thread.run_sync(self.store.next_reminder_at)
            except StorageError as exc:  # the reminder stays due: it fires once the disk allows
                self._storage_trouble("firing reminders", exc)
            except Exception:  # a bad row must not stop every other reminder for good
                logger.exception("firing reminders failed; retrying in %s s", self.settings.tick_seconds)
            self._reminder_wake = await self._wait(self._reminder_wake, next_at)

    async def _wait(self, wake: anyio.Event, next_at: datetime | None) -> anyio.Event:
        """Sleep until `next_at`, a wake-up, or one tick, whichever is first; returns a fresh event."""
        deadline = self.clock.now() + timedelta(seconds=self.settings.tick_seconds)
        if next_at is not None:
            deadline = min(deadline, next_at)
        if not wake.is_set() and deadline > self.clock.now():
            async with anyio.create_task_group() as tg:

                async def first(wait: Callable[[], Awaitable[object]]) -> None:
                    await wait()
                    tg.cancel_scope.cancel()

                tg.start_soon(first, wake.wait)
                tg.start_soon(first, lambda: self.clock.sleep_until(deadline))
        return anyio.Event() if wake.is_set() else wake

    # the outbox ----------------------------------------------------------------------------------

    async def _outbox_loop(self, tg: TaskGroup) -> None:
        while True:
            # A fresh event before looking, so that a wake-up during the look is not missed.
            wake = self._outbox_wake = anyio.Event()
            next_at: datetime | None = None
            try:
                now = self.clock.now()
                claimed = await anyio.to_thread.run_sync(self.store.claim_deliveries, now, _CLAIM_BATCH)
                for notification, delivery in claimed:
                    tg.start_soon(self._deliver_logged, notification, delivery)
                if len(claimed) == _CLAIM_BATCH:
                    continue
                next_at = await anyio.to_thread.run_sync(self.store.next_delivery_at)
            except StorageError as exc:  # a locked or full disk: keep the loop, try again next tick
                self._storage_trouble("reading the outbox", exc)
            except Exception:
                logger.exception("reading the outbox failed; retrying in %s s", self.settings.tick_seconds)
            await self._wait(wake, next_at)

    def _storage_trouble(self, what: str, exc: StorageError) -> None:
        """One line for the user; the traceback only at debug level."""
        logger.warning(
            "%s failed, retrying in %s s: %s", what, self.settings.tick_seconds, exc,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )  # fmt: skip

    async def _deliver_logged(self, notification: Notification, delivery: Delivery) -> None:
        try:
            await self._deliver(notification, delivery)
        except Exception:  # the row stays `sending` and is retried after a restart
            logger.exception("recording the %s delivery of %s failed", delivery.channel, notification.id)

    async def _record(
        self, notification_id: str, channel: Channel, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record an attempt, waiting out a full or locked disk: a delivery that was sent but never
        recorded would be sent again."""
        while True:
            try:
                now = self.clock.now()
                await anyio.to_thread.run_sync(
                    self.store.record_delivery, notification_id, channel, now, error, retry_at
                )
                return
            except StorageError as exc:
                self._storage_trouble(f"recording the {channel} delivery of {notification_id}", exc)
                await self.clock.sleep_until(self.clock.now() + timedelta(seconds=self.settings.tick_seconds))

    async def _deliver(self, notification: Notification, delivery: Delivery) -> None:
        error: str | None = None
        if delivery.channel == "inbox":  # held back until now: the inbox only needs telling
            if self._on_inbox is not None:
                await self._on_inbox([notification.id])
        else:
            async with self._limiters[delivery.channel]:
                error = await self._attempt(self.senders[delivery.channel], notification)
        now = self.clock.now()
        retry_at = None
        if error is not None:
            retry_at = self._retry_at(delivery.attempts + 1, now)
            logger.warning("%s delivery of %s failed (attempt %d): %s", delivery.channel, notification.id,
                           delivery.attempts + 1, error)  # fmt: skip
        await self._record(notification.id, delivery.channel, error, retry_at)
        if retry_at is not None:
            self._outbox_wake.set()
        if self._on_delivery is not None:
            await self._on_delivery(notification.id, delivery.channel, error)

    async def _attempt(self, sender: Sender, notification: Notification) -> str | None:
        try:
            with anyio.fail_after(self.settings.delivery_timeout_seconds):
                await sender.send(notification)
        except DeliveryError as exc:
            return str(exc)
        except TimeoutError:
            return f"no answer within {self.settings.delivery_timeout_seconds} s"
        except Exception as exc:  # an unexpected sender bug is recorded and retried like any failure
            logger.exception("sender crashed")
            return f"{type(exc).__name__}: {exc}"
        return None

    def _retry_at(self, attempts: int, now: datetime) -> datetime | None:
        s = self.settings
        if attempts >= s.retry_max_attempts:
            return None
        delay = min(s.retry_max_seconds, s.retry_base_seconds * 2 ** (attempts - 1))
        return now + timedelta(seconds=delay)


def _rate_limit_error(exc: RateLimited) -> NotifyInputError:
    return NotifyInputError(
        f"source {exc.source!r} already sent {exc.limit} notifications in the last minute "
        f"(PEPPER_NOTIFY_RATE_LIMIT_PER_MINUTE): retry in {exc.retry_after:.0f} s, "
        "or pass a dedupe_key so that repeats are counted instead of sent"
    )


def _digest(
    unread: Sequence[Notification], now: datetime, priority: Priority, reminder_id: str | None,
    late: bool, due: datetime | None,
) -> NewNotification:  # fmt: skip
    lines = [f"- [{n.priority}] {n.title} ({n.source}, {_ago(now - n.deliver_at)} ago)" for n in unread]
    title = f"Digest: {len(unread)} unread notification{'s' if len(unread) != 1 else ''}"
    return NewNotification(
        title,
        "\n".join(lines),
        priority,
        "digest",
        reminder_id=reminder_id,
        late=late,
        due_at=due,
        kind="digest",
    )


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _ago(delta: timedelta) -> str:
    return _human(max(delta, timedelta(0)))
