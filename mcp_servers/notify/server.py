"""The notify server's MCP surface: tools for notifications, reminders and the digest; inbox resources.

`build_server(settings, clock=None)` returns a FastMCP whose lifespan opens the store, the HTTP client
and the channels, and runs the engine's loops. Input problems become `ToolError`s that say what to
send instead. `notify://inbox` and `notify://notification/{id}` can be subscribed to in both MCP
protocol eras (through `mcp_servers.common.subscriptions`); both are updated when a notification
reaches the inbox. A storage failure (disk full, read-only, locked, corrupt; errors.py) reaches the
caller as a `ToolError` in words that say what to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, TypeVar

import anyio
import httpx
from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError, ToolError
from pydantic import BaseModel, Field

from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.common.surface import pepper_server

from .channels import build_senders
from .checks import NotifyInputError
from .clock import Clock, SystemClock
from .engine import Notifier
from .errors import reported
from .models import (
    DigestSchedule,
    Notification,
    NotificationList,
    OutgoingNotification,
    Priority,
    Reminder,
    ReminderList,
    SendResult,
)
from .settings import NotifySettings
from .store import NewReminder
from .when import TimeInputError, next_occurrence, parse_duration, parse_moment, parse_repeat, parse_zone

__all__ = ["INBOX_URI", "build_server"]

INBOX_URI = "notify://inbox"
T = TypeVar("T")
_READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
_WRITE = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True}
_UPDATE = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
# A snooze brings the notification back on every channel, and '30m' means later on each call.
_SNOOZE = {**_WRITE}
# A new digest schedule replaces the old one, and send_now sends one more digest each call.
_DIGEST = {**_WRITE, "destructiveHint": True}


MAX_BATCH = 1000


class Refusal(BaseModel):
    index: int = Field(description="Position in the batch")
    error: str


class Sent(BaseModel):
    """The short form of a SendResult, as a batch answers (the full notification is a resource)."""

    id: str
    deduplicated: bool
    dedupe_count: int
    held_until: datetime | None = None


class BatchSendResult(BaseModel):
    results: list[Sent | None] = Field(description="One per notification, in order; null where refused")
    refused: list[Refusal] = Field(
        default_factory=list, description="Notifications over their source's rate limit"
    )


class MarkReadResult(BaseModel):
    marked: int = Field(description="Notifications that changed from unread to read")


class SnoozeResult(BaseModel):
    notification: Notification | None = None
    reminder: Reminder | None = None


class DigestResult(BaseModel):
    schedule: DigestSchedule
    sent_now: Notification | None = Field(None, description="The digest sent right away, if asked for")


def notification_uri(notification_id: str) -> str:
    return f"notify://notification/{notification_id}"


def _moment_or_offset(text: str, zone_name: str, now: datetime, sign: int) -> datetime:
    """An ISO time, or a duration counted from now (`sign` +1 for ahead, -1 for ago)."""
    zone = parse_zone(zone_name)
    try:
        return parse_moment(text, zone)
    except TimeInputError:
        try:
            return now + sign * parse_duration(text)
        except TimeInputError:
            raise TimeInputError(
                f"cannot read {text!r}: give an ISO 8601 time ('2026-12-01T09:00') or a duration ('10m', '2h')"
            ) from None


def build_server(settings: NotifySettings, clock: Clock | None = None) -> FastMCP:
    """The notify MCP server over the store at `settings.db_path`."""
    subscriptions = ResourceSubscriptions()

    async def announce(ids: Sequence[str]) -> None:
        followed = subscriptions.subscribed_uris()
        if INBOX_URI in followed:
            await subscriptions.notify(INBOX_URI)
        for notification_id in ids:
            if notification_uri(notification_id) in followed:
                await subscriptions.notify(notification_uri(notification_id))

    async def delivery_changed(notification_id: str, channel: str, error: str | None) -> None:
        if notification_uri(notification_id) in subscriptions.subscribed_uris():
            await subscriptions.notify(notification_uri(notification_id))

    notifier = Notifier(settings, clock or SystemClock(), on_inbox=announce, on_delivery=delivery_changed)

    @asynccontextmanager
    async def lifespan(_: FastMCP) -> AsyncIterator[dict[str, object]]:
        timeout = httpx.Timeout(settings.delivery_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout) as http:
            async with notifier.running(build_senders(settings, http)):
                try:
                    yield {}
                finally:
                    subscriptions.close()

    server = pepper_server("pepper-notify", lifespan=lifespan)
    subscriptions.install(server)
    _add_notification_tools(server, notifier)
    _add_reminder_tools(server, notifier)
    _add_resources(server, notifier)
    return server


def _add_notification_tools(server: FastMCP, notifier: Notifier) -> None:
    @server.tool(annotations=_WRITE)
    @reported(ToolError)
    async def send_notification(
        title: Annotated[str, Field(description="One line the user sees first")],
        body: Annotated[str, Field(description="Details; at most 64 KiB of UTF-8")] = "",
        priority: Annotated[
            Priority, Field(description="low/normal wait out quiet hours; high/urgent do not")
        ] = "normal",
        source: Annotated[
            str, Field(description="Who is notifying (gmail, calendar...); rate-limited per source")
        ] = "mcp",
        links: Annotated[
            list[str] | None,
            Field(description="http(s), mailto or Pepper (gmail://, calendar://) URIs to act on"),
        ] = None,
        dedupe_key: Annotated[
            str | None, Field(description="Same key within the dedupe window: counted, not re-sent")
        ] = None,
    ) -> SendResult:
        """Tell the user something: lands in the inbox and on every enabled channel, once."""
        try:
            return await notifier.send(title, body, priority, source, links or [], dedupe_key)
        except NotifyInputError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=_WRITE)
    @reported(ToolError)
    async def send_notifications(
        notifications: Annotated[
            list[OutgoingNotification],
            Field(min_length=1, max_length=MAX_BATCH, description="Up to 1000 at once"),
        ],
    ) -> BatchSendResult:
        """send_notification for a batch (a feed catching up): one transaction, same dedupe and limits."""
        try:
            outcomes = await notifier.send_many(notifications)
        except NotifyInputError as exc:
            raise ToolError(f"{exc}; nothing was sent") from exc
        return BatchSendResult(
            results=[
                Sent(
                    id=o.notification.id,
                    deduplicated=o.deduplicated,
                    dedupe_count=o.notification.dedupe_count,
                    held_until=o.held_until,
                )
                if isinstance(o, SendResult)
                else None
                for o in outcomes
            ],  # fmt: skip
            refused=[
                Refusal(index=i, error=str(o))
                for i, o in enumerate(outcomes)
                if isinstance(o, NotifyInputError)
            ],
        )

    @server.tool(annotations=_READ_ONLY)
    @reported(ToolError)
    async def list_notifications(
        unread_only: Annotated[bool, Field(description="Only notifications not yet marked read")] = False,
        since: Annotated[str | None, Field(description="ISO time, or a duration ago such as '2h'")] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="Most recent first, at most this many")] = 50,
    ) -> NotificationList:
        """The inbox, newest first, with each channel's delivery status."""
        now = notifier.clock.now()
        try:
            after = _moment_or_offset(since, notifier.settings.timezone, now, -1) if since else None
        except TimeInputError as exc:
            raise ToolError(str(exc)) from exc
        store = notifier.store
        items = await _thread(store.list_notifications, now, unread_only, after, limit)
        unread, held = await _thread(store.counts, now)
        return NotificationList(notifications=items, unread=unread, held=held)

    @server.tool(annotations=_UPDATE)
    @reported(ToolError)
    async def mark_read(
        ids: Annotated[list[str] | None, Field(description="Notification ids; omit with all=true")] = None,
        all: Annotated[bool, Field(description="Mark every delivered notification read")] = False,
    ) -> MarkReadResult:
        """Mark notifications read, by id or all at once."""
        if (ids is None or not ids) == (not all):
            raise ToolError("give either ids (a non-empty list) or all=true, not both")
        count, unknown = await _thread(notifier.store.mark_read, None if all else ids, notifier.clock.now())
        if unknown:
            raise ToolError(f"no notification with id {', '.join(unknown)}: ids come from list_notifications")
        await notifier.announce([] if all else list(ids or []))
        return MarkReadResult(marked=count)

    @server.tool(annotations=_SNOOZE)
    @reported(ToolError)
    async def snooze(
        id: Annotated[str, Field(description="A notification id (n_...) or a reminder id (r_...)")],
        until: Annotated[str, Field(description="ISO time, or a duration from now such as '30m'")],
    ) -> SnoozeResult:
        """Bring a notification back later (unread, on every channel), or postpone a reminder."""
        now = notifier.clock.now()
        try:
            when = _moment_or_offset(until, notifier.settings.timezone, now, +1)
        except TimeInputError as exc:
            raise ToolError(str(exc)) from exc
        if when <= now:
            raise ToolError(
                f"until {until!r} is in the past (now is {now:%Y-%m-%d %H:%M:%S} UTC): give a future time"
            )
        if id.startswith("r_"):
            reminder = await notifier.reschedule_reminder(id, when)
            if reminder is None:
                raise ToolError(f"no active reminder {id!r}: see list_reminders")
            return SnoozeResult(reminder=reminder)
        notification = await _thread(notifier.store.snooze_notification, id, when)
        if notification is None:
            raise ToolError(f"no notification {id!r}: ids come from list_notifications")
        notifier.wake_outbox()
        await notifier.announce([id])
        return SnoozeResult(notification=notification)


def _add_reminder_tools(server: FastMCP, notifier: Notifier) -> None:
    @server.tool(annotations=_WRITE)
    @reported(ToolError)
    async def schedule_reminder(
        message: Annotated[str, Field(description="What to remind the user of")],
        at: Annotated[str | None, Field(description="ISO time; naive times are read in `timezone`")] = None,
        in_: Annotated[str | None, Field(alias="in", description="A delay such as '10m', '2h', '1d'")] = None,
        repeat: Annotated[
            str | None,
            Field(
                description="daily, weekdays, weekly, monthly, 'every 2 hours', or an RRULE like 'FREQ=WEEKLY;BYDAY=MO'"
            ),
        ] = None,
        timezone: Annotated[str | None, Field(description="IANA zone; default from settings")] = None,
        priority: Annotated[
            Priority, Field(description="high by default, so quiet hours do not hold it")
        ] = "high",
    ) -> Reminder:
        """Remind the user at a time, after a delay, or on a repeating schedule; survives restarts."""
        try:
            new = _new_reminder(notifier, message, at, in_, repeat, timezone, priority)
        except (TimeInputError, NotifyInputError) as exc:
            raise ToolError(str(exc)) from exc
        return await notifier.add_reminder(new)

    @server.tool(annotations=_READ_ONLY)
    @reported(ToolError)
    async def list_reminders(
        include_finished: Annotated[bool, Field(description="Also list done and cancelled ones")] = False,
    ) -> ReminderList:
        """Reminders (and the daily digest), soonest first."""
        return ReminderList(reminders=await _thread(notifier.store.list_reminders, include_finished))

    @server.tool(annotations={**_UPDATE, "destructiveHint": True})
    @reported(ToolError)
    async def cancel_reminder(
        reminder_id: Annotated[str, Field(description="The id from schedule_reminder or list_reminders")],
    ) -> Reminder:
        """Stop a reminder (or the daily digest) from firing again."""
        existing = await _thread(notifier.store.get_reminder, reminder_id)
        if existing is None:
            raise ToolError(f"no reminder {reminder_id!r}: see list_reminders")
        if existing.status != "active":
            raise ToolError(f"reminder {reminder_id!r} is already {existing.status}")
        cancelled = await _thread(notifier.store.cancel_reminder, reminder_id)
        assert cancelled is not None
        return cancelled

    @server.tool(annotations=_DIGEST)
    @reported(ToolError)
    async def daily_digest(
        at: Annotated[str, Field(description="Local time of day, HH:MM (e.g. '08:30')")],
        timezone: Annotated[str | None, Field(description="IANA zone; default from settings")] = None,
        send_now: Annotated[bool, Field(description="Also send a digest right away")] = False,
    ) -> DigestResult:
        """Every day at `at`, collect what is unread into one message per channel (inbox, desktop, webhook, email)."""
        try:
            new = _digest_reminder(notifier, at, timezone)
        except TimeInputError as exc:
            raise ToolError(str(exc)) from exc
        reminder = await notifier.add_reminder(new)
        sent = await notifier.send_digest_now() if send_now else None
        return DigestResult(
            schedule=DigestSchedule(reminder=reminder, channels=notifier.digest_channels), sent_now=sent
        )


def _new_reminder(
    notifier: Notifier, message: str, at: str | None, in_: str | None, repeat: str | None,
    timezone: str | None, priority: Priority,
) -> NewReminder:  # fmt: skip
    message = message.strip()
    if not message:
        raise NotifyInputError("message is empty: say what to remind the user of")
    if len(message) > 1000:
        raise NotifyInputError(f"message is {len(message)} characters; the limit is 1000")
    if at is not None and in_ is not None:
        raise NotifyInputError("give either at or in, not both")
    zone_name = timezone or notifier.settings.timezone
    zone = parse_zone(zone_name)
    now = notifier.clock.now()
    rule = parse_repeat(repeat) if repeat else None
    if at is not None:
        first = parse_moment(at, zone)
    elif in_ is not None:
        first = now + parse_duration(in_)
    elif rule is not None:
        upcoming = next_occurrence(rule, now.replace(second=0, microsecond=0), zone, now)
        if upcoming is None:
            raise TimeInputError(f"repeat {repeat!r} has no occurrence after now")
        first = upcoming
    else:
        raise NotifyInputError("say when: give at (ISO time), in (e.g. '10m') or repeat (e.g. 'daily')")
    if first <= now:
        raise TimeInputError(
            f"{at or in_!r} is in the past (now is {now.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}): give a future time"
        )
    return NewReminder(message, priority, zone.key, first, repeat=rule)


def _digest_reminder(notifier: Notifier, at: str, timezone: str | None) -> NewReminder:
    zone = parse_zone(timezone or notifier.settings.timezone)
    try:
        hour, minute = (int(part) for part in at.strip().split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise TimeInputError(f"cannot read {at!r} as a time of day: write HH:MM such as '08:30'") from None
    now = notifier.clock.now()
    local = now.astimezone(zone).replace(hour=hour, minute=minute, second=0, microsecond=0)
    rule = "FREQ=DAILY"
    first = local.astimezone(now.tzinfo) if local > now else next_occurrence(rule, local, zone, now)
    assert first is not None
    return NewReminder("Daily digest", "normal", zone.key, first, repeat=rule, kind="digest",
                       channels=notifier.digest_channels)  # fmt: skip


def _add_resources(server: FastMCP, notifier: Notifier) -> None:
    @server.resource(INBOX_URI, mime_type="application/json")
    @reported(ResourceError)
    async def inbox() -> str:
        """The 50 most recent delivered notifications with unread and held counts."""
        now = notifier.clock.now()
        items = await _thread(notifier.store.list_notifications, now, False, None, 50)
        unread, held = await _thread(notifier.store.counts, now)
        return NotificationList(notifications=items, unread=unread, held=held).model_dump_json()

    @server.resource("notify://notification/{notification_id}", mime_type="application/json")
    @reported(ResourceError)
    async def notification(notification_id: str) -> str:
        """One notification with its deliveries."""
        found = await _thread(notifier.store.get_notification, notification_id)
        if found is None:
            raise ResourceError(f"no notification {notification_id!r}")
        return found.model_dump_json()


async def _thread(function: Callable[..., T], *args: object) -> T:
    return await anyio.to_thread.run_sync(function, *args)
