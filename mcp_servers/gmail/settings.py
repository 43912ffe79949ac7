"""Configuration of the gmail server: which provider, where the mail is, and what it may change.

One pydantic-settings class read from `PEPPER_GMAIL_*` environment variables; command-line flags
(`--maildir`, `--allow-write`, `--allow-send`) override it in `__main__`. Nothing is read at import
time. `allow_send` implies `allow_write` (see `mcp_servers.common.write_flags`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_state_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_servers.common.host_guard import AllowedHosts

__all__ = ["GmailSettings"]


class GmailSettings(BaseSettings):
    """Settings of `pepper-gmail`, from `PEPPER_GMAIL_*` variables."""

    model_config = SettingsConfigDict(env_prefix="PEPPER_GMAIL_", extra="ignore")

    provider: Literal["maildir", "imap", "gmail", "composio"] = Field(
        "maildir", description="Mailbox backend: maildir, imap, gmail (the Gmail API) or composio"
    )
    maildir: Path | None = Field(None, description="Root of the Maildir++ tree (maildir provider)")
    state_dir: Path = Field(
        default_factory=lambda: Path(user_state_dir("pepper")) / "gmail",
        description="Where the index and change journal are kept",
    )
    allow_write: bool = Field(
        False, description="Enable reversible changes: labels, read state, archive, drafts (off: read-only)"
    )
    allow_send: bool = Field(
        False,
        description="Enable send, reply, forward, send_draft, trash and spam (implies allow_write; off: nothing leaves)",
    )
    files_dir: Path | None = Field(
        None,
        description="Folder save_attachment writes into and the only folder files may be attached from "
        "(send_message, reply, create_draft, update_draft); unset: neither is possible",
    )
    token: SecretStr | None = Field(None, description="Bearer token required on HTTP off loopback")
    allowed_hosts: AllowedHosts = Field(
        (),
        description="HTTP: host names besides 127.0.0.1, localhost and [::1] that requests may name, "
        "comma-separated (a LAN deployment; needs the token)",
    )
    smtp_host: str | None = Field(None, description="SMTP server for sending; unset: sent mail is only filed")
    smtp_port: int = Field(587, description="SMTP port")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="SMTP transport security"
    )
    smtp_username: str | None = Field(None, description="SMTP login (defaults to the IMAP username)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (defaults to the IMAP password)")
    imap_host: str | None = Field(None, description="IMAP server (imap provider)")
    imap_port: int = Field(993, description="IMAP port")
    imap_security: Literal["tls", "starttls", "none"] = Field("tls", description="IMAP transport security")
    imap_username: str | None = Field(None, description="IMAP login")
    imap_password: SecretStr | None = Field(None, description="IMAP password or app password")
    ca_file: Path | None = Field(
        None,
        description="PEM file of the CA that signed the IMAP/SMTP servers' certificates (default: system CAs)",
    )
    imap_folder: str = Field("INBOX", description="IMAP folder that is watched for changes")
    poll_seconds: float = Field(60.0, gt=0, description="Polling interval when the IMAP server lacks IDLE")
    gmail_token_file: Path | None = Field(
        None,
        description="OAuth token of the Gmail API provider (0600; default: <state_dir>/gmail-token.json)",
    )
    gmail_client_secrets: Path | None = Field(
        None, description="OAuth client secrets JSON, for the first interactive consent"
    )
    gmail_api_endpoint: str | None = Field(
        None, description="Gmail API base URL override (an emulator, a proxy)"
    )
    gmail_token_uri: str | None = Field(None, description="OAuth token endpoint override (an emulator)")
    gmail_refresh_token_days: float | None = Field(
        None,
        gt=0,
        description="How long Google's refresh token lasts (7 for an OAuth app in 'Testing' status); "
        "unset: no known end. The account status warns a day before it ends",
    )
    gmail_pubsub_topic: str | None = Field(
        None,
        pattern=r"^projects/[^/]+/topics/[^/]+$",
        description="Cloud Pub/Sub topic for users.watch push (projects/P/topics/T); unset: polling only",
    )
    gmail_push_token: SecretStr | None = Field(
        None, description="Shared token the Pub/Sub push must carry on /gmail/push (?token= or header)"
    )
    from_address: str | None = Field(None, description="From address of outgoing mail")
    composio_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("pepper_gmail_composio_api_key", "composio_api_key"),
        description="Composio project API key (composio provider; COMPOSIO_API_KEY also works)",
    )
    composio_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("pepper_gmail_composio_base_url", "composio_base_url"),
        description="Composio API base URL (COMPOSIO_BASE_URL also works); Composio's cloud when unset",
    )
    composio_user_id: str | None = Field(
        None,
        validation_alias=AliasChoices("pepper_gmail_composio_user_id", "composio_user_id"),
        description="Composio user id that owns the Gmail connection (COMPOSIO_USER_ID also works)",
    )
    composio_connected_account_id: str | None = Field(
        None, description="Composio connected account id (ca_...) of the Gmail connection, if pinned"
    )
    composio_toolkit_version: str | None = Field(
        None, description="Composio Gmail toolkit version to execute (e.g. 20250906_01); latest when unset"
    )
