"""Settings of the notify server, read from `PEPPER_NOTIFY_*` environment variables.

One pydantic-settings class; secrets (the HTTP token, the webhook URL, the SMTP password) are
`SecretStr` so that they never show in logs or reprs. Channels other than the inbox are enabled by
setting what they need: a webhook URL, an SMTP host and recipient, or `notify-send` on the PATH.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_servers.common.host_guard import AllowedHosts

__all__ = ["MAX_BODY_BYTES", "NotifySettings", "default_db_path"]

MAX_BODY_BYTES = 64 * 1024
"""Largest notification body accepted, in UTF-8 bytes: longer content belongs behind a link."""


def default_db_path() -> Path:
    """`notify.sqlite3` under the user's data directory for Pepper."""
    return Path(user_data_dir("pepper")) / "notify.sqlite3"


class NotifySettings(BaseSettings):
    """Everything the notify server can be told; all optional, with working defaults."""

    model_config = SettingsConfigDict(env_prefix="PEPPER_NOTIFY_", extra="ignore")

    db_path: Path = Field(default_factory=default_db_path, description="SQLite file of the store")
    token: SecretStr | None = Field(None, description="Bearer token required on HTTP requests")
    allowed_hosts: AllowedHosts = Field(
        (),
        description="HTTP: host names besides 127.0.0.1, localhost and [::1] that requests may name, "
        "comma-separated (a LAN deployment; needs the token)",
    )
    timezone: str = Field("UTC", description="IANA zone for naive times, quiet hours and digests")
    dedupe_window_seconds: float = Field(
        3600.0, gt=0, description="A repeated dedupe_key within this window counts, not re-notifies"
    )
    rate_limit_per_minute: int = Field(
        60, ge=1, description="Notifications one source may send per rolling minute"
    )
    quiet_hours_start: time | None = Field(
        None, description="Local start of quiet hours (e.g. 22:00); low/normal are held"
    )
    quiet_hours_end: time | None = Field(None, description="Local end of quiet hours (e.g. 07:00)")
    late_after_seconds: float = Field(
        60.0, ge=0, description="A reminder fired this long after its due time is marked late"
    )
    tick_seconds: float = Field(
        1.0, gt=0, le=60, description="Longest wait between clock checks (bounds clock-jump delay)"
    )
    retry_base_seconds: float = Field(2.0, gt=0, description="First retry delay of a failed delivery")
    retry_max_seconds: float = Field(900.0, gt=0, description="Longest delay between retries")
    retry_max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is given up")
    delivery_timeout_seconds: float = Field(15.0, gt=0, description="Time limit of one delivery")
    desktop: Literal["auto", "on", "off"] = Field(
        "auto", description="Desktop notifications: auto = when notify-send is on the PATH"
    )
    desktop_command: str = Field("notify-send", description="Program called for desktop notifications")
    webhook_url: SecretStr | None = Field(None, description="URL that receives an HTTP POST per notification")
    webhook_format: Literal["auto", "json", "ntfy", "slack"] = Field(
        "auto", description="Payload shape: auto picks slack for hooks.slack.com, else json"
    )
    webhook_token: SecretStr | None = Field(None, description="Bearer token sent to the webhook (ntfy auth)")
    smtp_host: str | None = Field(None, description="SMTP server for the email digest")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS")
    smtp_username: str | None = Field(None, description="SMTP login user, if the server needs one")
    smtp_password: SecretStr | None = Field(None, description="SMTP login password")
    email_from: str = Field("pepper@localhost", description="From address of digest emails")
    email_to: str | None = Field(None, description="Recipient of digest emails; enables the email channel")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name like Europe/Paris") from exc
        return value

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("webhook_url must start with http:// or https://")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
