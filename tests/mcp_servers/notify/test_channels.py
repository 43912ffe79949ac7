"""Each push channel against a real local receiver: HTTP webhook, aiosmtpd, and a desktop program."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mcp_servers.notify.channels import build_senders, webhook_request
from mcp_servers.notify.clock import ManualClock
from mcp_servers.notify.engine import Notifier
from mcp_servers.notify.models import Notification
from mcp_servers.notify.settings import NotifySettings
from tests.support.processes import free_port

from .conftest import START, Events
from .receivers import smtp_server, webhook_receiver

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(settings: NotifySettings, clock: ManualClock, events: Events) -> AsyncIterator[Notifier]:
    notifier = Notifier(settings, clock, on_inbox=events.on_inbox, on_delivery=events.on_delivery)
    async with httpx.AsyncClient(timeout=5) as http, notifier.running(build_senders(settings, http)):
        yield notifier


def webhook_settings(db_path: Path, url: str, **extra: object) -> NotifySettings:
    values: dict[str, object] = {"desktop": "off", "retry_base_seconds": 2, "retry_max_attempts": 3, **extra}
    return NotifySettings(db_path=db_path, webhook_url=SecretStr(url), **values)


def attempts(events: Events, channel: str) -> list[str | None]:
    return [error for _, ch, error in events.deliveries if ch == channel]


def delivery(notifier: Notifier, notification_id: str, channel: str):  # type: ignore[no-untyped-def]
    found = notifier.store.get_notification(notification_id)
    assert found is not None
    return next(d for d in found.deliveries if d.channel == channel)


async def test_webhook_posts_notification_as_json(db_path: Path, clock: ManualClock, events: Events) -> None:
    with webhook_receiver() as receiver:
        settings = webhook_settings(
            db_path, receiver.url + "/hooks/pepper", webhook_token=SecretStr("s3cret")
        )
        async with running(settings, clock, events) as notifier:
            sent = await notifier.send(
                "Flight boards", "Gate 12", "high", "calendar", ["https://example.org/f"]
            )
            await events.wait_for(lambda: len(attempts(events, "webhook")) == 1)
            status = delivery(notifier, sent.notification.id, "webhook")
    [(path, payload, headers)] = receiver.requests
    assert path == "/hooks/pepper"
    assert headers["authorization"] == "Bearer s3cret"
    assert payload["title"] == "Flight boards" and payload["text"] == "Flight boards\nGate 12"
    assert payload["priority"] == "high" and payload["links"] == ["https://example.org/f"]
    assert (status.status, status.attempts, status.last_error) == ("sent", 1, None)


async def test_webhook_failing_first_is_retried_with_backoff_then_sent(
    db_path: Path, clock: ManualClock, events: Events
) -> None:
    with webhook_receiver(failures=1) as receiver:
        async with running(webhook_settings(db_path, receiver.url), clock, events) as notifier:
            sent = await notifier.send("Package delivered")
            await events.wait_for(lambda: len(attempts(events, "webhook")) == 1)
            retrying = delivery(notifier, sent.notification.id, "webhook")
            assert retrying.status == "pending" and "HTTP 503" in (retrying.last_error or "")
            assert retrying.next_attempt_at == START + timedelta(seconds=2)
            assert delivery(notifier, sent.notification.id, "inbox").status == "sent"
            clock.advance(timedelta(seconds=2))
            await events.wait_for(lambda: len(attempts(events, "webhook")) == 2)
            done = delivery(notifier, sent.notification.id, "webhook")
    assert len(receiver.requests) == 2
    assert (done.status, done.attempts, done.last_error) == ("sent", 2, None)


async def test_unreachable_webhook_gives_up_after_max_attempts_without_blocking_desktop(
    db_path: Path, clock: ManualClock, events: Events, tmp_path: Path
) -> None:
    script, calls = desktop_program(tmp_path)
    settings = webhook_settings(
        db_path, f"http://127.0.0.1:{free_port()}/nobody", desktop="on", desktop_command=str(script)
    )
    async with running(settings, clock, events) as notifier:
        sent = await notifier.send("Disk almost full", priority="urgent")
        await events.wait_for(
            lambda: len(attempts(events, "webhook")) == 1 and len(attempts(events, "desktop")) == 1
        )
        clock.advance(timedelta(seconds=2))
        await events.wait_for(lambda: len(attempts(events, "webhook")) == 2)
        clock.advance(timedelta(seconds=4))
        await events.wait_for(lambda: len(attempts(events, "webhook")) == 3)
        given_up = delivery(notifier, sent.notification.id, "webhook")
        assert notifier.store.next_delivery_at() is None  # nothing left to retry
    assert attempts(events, "desktop") == [None]
    assert given_up.status == "failed" and given_up.attempts == 3 and given_up.next_attempt_at is None
    assert "webhook unreachable: ConnectError" in (given_up.last_error or "")
    assert calls.read_text().split("\0")[:6] == ["-u", "critical", "-a", "Pepper", "Disk almost full", ""]


async def test_webhook_speaks_ntfy_json_publishing(db_path: Path, clock: ManualClock, events: Events) -> None:
    with webhook_receiver() as receiver:
        settings = webhook_settings(db_path, receiver.url + "/pepper-alerts", webhook_format="ntfy")
        async with running(settings, clock, events) as notifier:
            await notifier.send("Door open", "Back door", "urgent", "home", ["https://example.org/cam"])
            await events.wait_for(lambda: attempts(events, "webhook") == [None])
    [(path, payload, _)] = receiver.requests
    assert path == "/"
    assert payload == {
        "topic": "pepper-alerts",
        "title": "Door open",
        "message": "Back door",
        "priority": 5,
        "tags": ["home"],
        "click": "https://example.org/cam",
    }


async def test_webhook_speaks_slack_incoming_webhook(
    db_path: Path, clock: ManualClock, events: Events
) -> None:
    with webhook_receiver() as receiver:
        settings = webhook_settings(db_path, receiver.url + "/services/T0/B0/x", webhook_format="slack")
        async with running(settings, clock, events) as notifier:
            await notifier.send("Deploy done", "v1.2 is live", links=["https://example.org/release"])
            await events.wait_for(lambda: attempts(events, "webhook") == [None])
    assert receiver.requests[0][1] == {"text": "*Deploy done*\nv1.2 is live\n<https://example.org/release>"}


def test_webhook_request_picks_slack_for_slack_hosts() -> None:
    notification = Notification(
        id="n_1", title="T", body="B", priority="low", source="s", created_at=START, deliver_at=START
    )
    url, payload = webhook_request("https://hooks.slack.com/services/T/B/X", "auto", notification)
    assert url == "https://hooks.slack.com/services/T/B/X" and payload == {"text": "*T*\nB"}
    assert "id" in webhook_request("https://example.org/hook", "auto", notification)[1]


async def test_email_channel_sends_digest_over_smtp(
    db_path: Path, clock: ManualClock, events: Events
) -> None:
    with smtp_server() as (sink, port):
        settings = NotifySettings(
            db_path=db_path, desktop="off", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
            email_from="pepper@example.org", email_to="me@example.org",
        )  # fmt: skip
        async with running(settings, clock, events) as notifier:
            plain = await notifier.send("Invoice from ACME", source="gmail")
            await notifier.send("Dentist moved to 3pm", source="calendar", priority="high")
            assert [d.channel for d in plain.notification.deliveries] == [
                "inbox"
            ]  # email carries digests only
            digest = await notifier.send_digest_now()
            await events.wait_for(lambda: attempts(events, "email") == [None])
    assert digest is not None and [d.channel for d in digest.deliveries] == ["inbox", "email"]
    [(sender, recipients, content)] = sink.messages
    assert sender == "pepper@example.org" and recipients == ["me@example.org"]
    assert "Subject: [Pepper] Digest: 2 unread notifications" in content
    assert "Invoice from ACME" in content and "Dentist moved to 3pm" in content


def test_desktop_channel_is_off_when_program_is_missing(db_path: Path) -> None:
    settings = NotifySettings(db_path=db_path, desktop="auto", desktop_command="no-such-notify-send-here")
    assert build_senders(settings, httpx.AsyncClient()) == {}


def desktop_program(tmp_path: Path) -> tuple[Path, Path]:
    """A real executable standing in for notify-send that records its arguments."""
    calls = tmp_path / "desktop-calls"
    script = tmp_path / "notify-send"
    script.write_text(f"#!/bin/sh\nprintf '%s\\0' \"$@\" >> '{calls}'\n")
    script.chmod(0o755)
    return script, calls


async def test_pending_webhook_delivery_survives_restart_and_is_sent_after(
    db_path: Path, clock: ManualClock, events: Events
) -> None:
    async with running(
        webhook_settings(db_path, f"http://127.0.0.1:{free_port()}/down"), clock, events
    ) as notifier:
        sent = await notifier.send("Parcel at the door")
        await events.wait_for(lambda: len(attempts(events, "webhook")) == 1)
    clock.advance(timedelta(minutes=5))
    with webhook_receiver() as receiver:
        async with running(webhook_settings(db_path, receiver.url), clock, events) as notifier:
            await events.wait_for(lambda: len(attempts(events, "webhook")) == 2)
            done = delivery(notifier, sent.notification.id, "webhook")
    assert [payload["id"] for _, payload, _ in receiver.requests] == [sent.notification.id]
    assert (done.status, done.attempts) == ("sent", 2)
