"""The push channels: desktop (`notify-send`), webhook (JSON, ntfy, Slack) and email (SMTP).

Each sender has one method, `send(notification)`, that either returns (delivered) or raises
`DeliveryError` with a message fit for the delivery record; foreign errors are translated here.
Senders hold no state beyond their configuration and never log secrets (webhook URLs and SMTP
passwords stay in `SecretStr` until the moment they are used).
"""

from __future__ import annotations

import shutil
import smtplib
import subprocess
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx

from .models import Channel, Notification
from .settings import NotifySettings

__all__ = [
    "DeliveryError",
    "DesktopSender",
    "EmailSender",
    "Sender",
    "WebhookSender",
    "build_senders",
    "webhook_request",
]


class DeliveryError(Exception):
    """A channel could not deliver; the message says why (without secrets)."""


class Sender(Protocol):
    async def send(self, notification: Notification) -> None: ...


_URGENCY = {"low": "low", "normal": "normal", "high": "normal", "urgent": "critical"}
_NTFY_PRIORITY = {"low": 2, "normal": 3, "high": 4, "urgent": 5}


class DesktopSender:
    """Runs `notify-send -u URGENCY -a Pepper TITLE BODY`."""

    def __init__(self, command: str) -> None:
        self._command = command

    async def send(self, notification: Notification) -> None:
        argv = [self._command, "-u", _URGENCY[notification.priority], "-a", "Pepper"]
        argv += [notification.title, notification.body[:1000]]
        try:
            await anyio.run_process(argv, check=True)
        except subprocess.CalledProcessError as exc:
            stderr = (exc.stderr or b"").decode(errors="replace").strip()[:200]
            raise DeliveryError(f"{self._command} exited with {exc.returncode}: {stderr}") from exc
        except OSError as exc:
            raise DeliveryError(f"cannot run {self._command}: {exc.strerror or exc}") from exc


def webhook_request(url: str, style: str, notification: Notification) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, shaped for `style` (json, ntfy or slack)."""
    text = f"{notification.title}\n{notification.body}".strip()
    if style == "auto":
        style = "slack" if urlsplit(url).hostname == "hooks.slack.com" else "json"
    if style == "slack":
        links = "".join(f"\n<{link}>" for link in notification.links)
        return url, {"text": f"*{notification.title}*\n{notification.body}{links}".strip()}
    if style == "ntfy":
        # ntfy takes JSON at its root URL with the topic inside; the configured URL ends in the topic.
        parts = urlsplit(url)
        root, _, topic = parts.path.rstrip("/").rpartition("/")
        payload: dict[str, Any] = {
            "topic": topic,
            "title": notification.title,
            "message": notification.body or notification.title,
            "priority": _NTFY_PRIORITY[notification.priority],
            "tags": [notification.source],
        }
        if notification.links:
            payload["click"] = notification.links[0]
        return urlunsplit((parts.scheme, parts.netloc, root + "/", "", "")), payload
    return url, {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "text": text,
        "priority": notification.priority,
        "source": notification.source,
        "links": notification.links,
        "created_at": notification.created_at.isoformat(),
        "late": notification.late,
    }


class WebhookSender:
    """POSTs each notification as JSON; any non-2xx answer or network error is a failure."""

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        assert settings.webhook_url is not None
        self._url = settings.webhook_url
        self._style = settings.webhook_format
        self._token = settings.webhook_token
        self._client = client

    async def send(self, notification: Notification) -> None:
        url, payload = webhook_request(self._url.get_secret_value(), self._style, notification)
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"} if self._token else {}
        try:
            response = await self._client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(self._redact(f"webhook unreachable: {type(exc).__name__}: {exc}")) from exc
        if not response.is_success:
            raise DeliveryError(
                self._redact(f"webhook answered HTTP {response.status_code}: {response.text[:200]}")
            )

    def _redact(self, message: str) -> str:
        """The webhook URL is a secret (Slack's carries its token): keep it out of error records."""
        for secret in (self._url.get_secret_value(), self._token.get_secret_value() if self._token else None):
            if secret:
                message = message.replace(secret, "***")
        return message


class EmailSender:
    """Sends a notification (in practice the digest) as a plain-text email over SMTP."""

    def __init__(self, settings: NotifySettings) -> None:
        assert settings.smtp_host is not None and settings.email_to is not None
        self._settings = settings

    async def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["Subject"] = f"[Pepper] {notification.title}"
        message["From"] = self._settings.email_from
        message["To"] = self._settings.email_to
        links = "".join(f"\n{link}" for link in notification.links)
        message.set_content(f"{notification.body}{links}\n")
        try:
            await anyio.to_thread.run_sync(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP delivery failed: {type(exc).__name__}: {exc}") from exc

    def _deliver(self, message: EmailMessage) -> None:
        s = self._settings
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.delivery_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)


def build_senders(settings: NotifySettings, client: httpx.AsyncClient) -> dict[Channel, Sender]:
    """The push channels the settings enable (the inbox is the engine's own)."""
    senders: dict[Channel, Sender] = {}
    wants_desktop = settings.desktop == "on" or (
        settings.desktop == "auto" and shutil.which(settings.desktop_command) is not None
    )
    if wants_desktop:
        senders["desktop"] = DesktopSender(settings.desktop_command)
    if settings.webhook_url is not None:
        senders["webhook"] = WebhookSender(settings, client)
    if settings.smtp_host and settings.email_to:
        senders["email"] = EmailSender(settings)
    return senders
