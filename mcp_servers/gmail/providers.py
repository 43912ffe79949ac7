"""Choosing and building the `MailProvider` the settings ask for; fails fast on what is missing."""

from __future__ import annotations

from .gmail_api import GmailApiProvider
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
        return GmailApiProvider(settings)
    try:
        return ImapProvider(settings, make_sender(settings))
    except MailProviderError as exc:
        raise SystemExit(str(exc)) from exc
