"""Configuration of the calendar server, from `PEPPER_CALENDAR_*` environment variables and CLI flags.

Nothing is read at import: `CalendarSettings()` reads the environment when `main()` builds it, and
`main()` lays the command-line flags (`--ics`, `--allow-write`, `--allow-send`, `--timezone`) over it.
`allow_send` implies `allow_write` (see `mcp_servers.common.write_flags`).
"""

from __future__ import annotations

from datetime import time, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_state_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_servers.common.host_guard import AllowedHosts

__all__ = ["CalendarSettings", "local_zone"]


def _default_state_dir() -> Path:
    return Path(user_state_dir("pepper")) / "calendar"


class CalendarSettings(BaseSettings):
    """Every knob of the calendar server; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="PEPPER_CALENDAR_", extra="ignore")

    ics: list[Path] = Field(default_factory=list, description="ICS files or folders of them (JSON list)")
    caldav_url: str | None = Field(None, description="CalDAV server or calendar home URL (instead of ICS)")
    caldav_username: str | None = Field(None, description="CalDAV user name")
    caldav_password: SecretStr | None = Field(None, description="CalDAV password or app password")
    caldav_timeout_seconds: float = Field(20.0, gt=0, description="Timeout of every CalDAV request")
    google_token_file: Path | None = Field(
        None, description="Google OAuth authorized-user JSON (token, refresh_token, client_id, client_secret)"
    )
    google_api_endpoint: str | None = Field(None, description="Google Calendar API base URL (tests, proxies)")
    composio_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("pepper_calendar_composio_api_key", "composio_api_key"),
        description="Composio project API key: the calendar of its Google Calendar connection (COMPOSIO_API_KEY too)",
    )
    composio_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("pepper_calendar_composio_base_url", "composio_base_url"),
        description="Composio API base URL (COMPOSIO_BASE_URL also works); Composio's cloud when unset",
    )
    composio_user_id: str | None = Field(
        None,
        validation_alias=AliasChoices("pepper_calendar_composio_user_id", "composio_user_id"),
        description="Composio user id that owns the Google Calendar connection (COMPOSIO_USER_ID too)",
    )
    composio_connected_account_id: str | None = Field(
        None, description="Composio connected account id (ca_...) of the Google Calendar connection"
    )
    composio_toolkit_version: str | None = Field(
        None, description="Composio Google Calendar toolkit version to execute; latest when unset"
    )
    allow_write: bool = Field(
        False, description="Allow creating, changing and deleting your own events without other people"
    )
    allow_send: bool = Field(
        False,
        description="Allow what reaches other people: invitations, answers to invitations, changes and "
        "deletions of events others are invited to (implies allow_write)",
    )
    timezone: str | None = Field(None, description="Your IANA timezone; the system's when unset")
    user_email: str | None = Field(None, description="Your address: organizer of invites you send")
    lead_times_minutes: list[int] = Field(
        [120, 30], description="Alert this many minutes before each event starts (JSON list)"
    )
    upcoming_hours: float = Field(24.0, gt=0, description="How far ahead calendar://upcoming looks")
    poll_seconds: float = Field(60.0, gt=0, description="How often the upcoming view is re-checked")
    max_events: int = Field(2000, gt=0, description="Most events one call returns (more: truncated)")
    working_start: time = Field(time(9), description="Default start of working hours, local time")
    working_end: time = Field(time(17), description="Default end of working hours, local time")
    caldav_freebusy_url: str | None = Field(
        None,
        description="Where attendees' CalDAV calendars are, for free/busy: a URL with {email}, {local} "
        "(before the @) or {domain}, naming a calendar or a calendar home (https://dav.example.com/{local}/)",
    )
    invite_outbox: Path | None = Field(
        None, description="ICS calendars: write invitations (iTIP .eml files) to this folder"
    )
    smtp_host: str | None = Field(
        None, description="ICS calendars: send invitations through this SMTP server"
    )
    smtp_port: int = Field(587, gt=0, lt=65536, description="SMTP port")
    smtp_username: str | None = Field(None, description="SMTP user name (no login when unset)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS")
    state_dir: Path = Field(default_factory=_default_state_dir, description="Where the change log lives")
    token: SecretStr | None = Field(None, description="Bearer token required on the HTTP transport")
    allowed_hosts: AllowedHosts = Field(
        (),
        description="HTTP: host names besides 127.0.0.1, localhost and [::1] that requests may name, "
        "comma-separated (a LAN deployment; needs the token)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {name!r}: use an IANA name like Europe/Berlin") from None
        return name

    def zone(self) -> tzinfo:
        return local_zone() if self.timezone is None else ZoneInfo(self.timezone)


def local_zone() -> tzinfo:
    """The system's IANA zone (from /etc/localtime), or UTC when it cannot be told."""
    try:
        target = Path("/etc/localtime").resolve()
        name = str(target).split("zoneinfo/", 1)[1]
        return ZoneInfo(name)
    except (IndexError, OSError, ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
