"""Choosing and building the `MailProvider` the settings ask for; fails fast on what is missing."""

from __future__ import annotations

from .imap import ImapProvider
from .maildir import MaildirProvider
from .provider import MailProvider, MailProviderError
from .settings import GmailSettings
from .smtp import SmtpSender

__all__ = ["make_provider", "make_sender"]


def make_sender(settings: GmailSettings) -> SmtpSender | None:
    """The SMTP sender, when an SMTP host is configured."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password or settings.imap_password
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username or settings.imap_username,
        password=password.get_secret_value() if password else None,
        security=settings.smtp_security,
        ca_file=settings.ca_file,
    )


def make_provider(settings: GmailSettings) -> MailProvider:
    """The provider named by `settings.provider`."""
    if settings.provider == "maildir":
        if settings.maildir is None:
            raise SystemExit(
                "the maildir provider needs a folder: pass --maildir PATH or set PEPPER_GMAIL_MAILDIR"
            )
        return MaildirProvider(settings.maildir.expanduser(), settings.state_dir, make_sender(settings))
    if settings.provider == "gmail":
        if settings.gmail_pubsub_topic and settings.gmail_push_token is None:
            raise SystemExit(
                "PEPPER_GMAIL_GMAIL_PUBSUB_TOPIC needs PEPPER_GMAIL_GMAIL_PUSH_TOKEN: the token that the "
                "Pub/Sub push subscription sends to /gmail/push?token=..."
            )
        from .gmail_api import GmailApiProvider  # google-api-python-client: only for this provider

        return GmailApiProvider(settings)
    if settings.provider == "composio":
        return _composio_provider(settings)
    try:
        return ImapProvider(settings, make_sender(settings))
    except MailProviderError as exc:
        raise SystemExit(str(exc)) from exc


def _composio_provider(settings: GmailSettings) -> MailProvider:
    from mcp_servers.common.composio_client import ComposioConfig

    from .composio_provider import ComposioGmailProvider

    if settings.composio_api_key is None:
        raise SystemExit(
            "the composio provider needs an API key: set COMPOSIO_API_KEY (or PEPPER_GMAIL_COMPOSIO_API_KEY)"
        )
    return ComposioGmailProvider(settings, ComposioConfig.of(settings))
