"""Sending mail over SMTP (submission with STARTTLS, implicit TLS, or plain on loopback).

Certificates are verified against the system CAs or the configured CA file (`tls.tls_context`).

The blocking `smtplib` client runs in a worker thread; SMTP failures are translated once, here, into
`MailProviderError`s that say what to check.
"""

from __future__ import annotations

import copy
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import anyio

from .provider import MailProviderError, ProviderUnavailableError
from .tls import refused_certificate, tls_context

__all__ = ["SmtpSender", "recipients_of"]


def recipients_of(message: EmailMessage) -> list[str]:
    """Every envelope recipient: To, Cc and Bcc."""
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [addr for _, addr in getaddresses(values) if addr]


class SmtpSender:
    """Sends `EmailMessage`s through one SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        security: str = "starttls",
        timeout: float = 30.0,
        ca_file: Path | None = None,
    ) -> None:
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.ca_file = ca_file
        self._username, self._password = username, password

    async def send(self, message: EmailMessage) -> list[str]:
        """Send `message` to all its recipients; returns them."""
        recipients = recipients_of(message)
        if not recipients:
            raise MailProviderError("the message has no recipients: give at least one To address")
        await anyio.to_thread.run_sync(self._send_blocking, message, recipients)
        return recipients

    def _send_blocking(self, message: EmailMessage, recipients: list[str]) -> None:
        try:
            with self._connect() as client:
                if self._username:
                    client.login(self._username, self._password or "")
                # Bcc recipients get the message through the envelope, never through a header.
                visible = copy.deepcopy(message)
                del visible["Bcc"]
                client.send_message(visible, to_addrs=recipients)
        except smtplib.SMTPAuthenticationError as exc:
            raise ProviderUnavailableError(
                f"SMTP server {self.host}:{self.port} rejected the credentials ({exc.smtp_code}): "
                "check the SMTP username and password (an app password for Gmail)"
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise refused_certificate(exc, f"SMTP server {self.host}:{self.port}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailProviderError(
                f"the SMTP server refused the recipients {sorted(exc.recipients)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderUnavailableError(
                f"cannot send through SMTP server {self.host}:{self.port}: {exc}; check the host, port and security setting"
            ) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.security == "none":
            return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        context = tls_context(self.ca_file)
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.starttls(context=context)
        except BaseException:
            client.close()
            raise
        return client
