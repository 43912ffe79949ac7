"""TLS for the mail connections: certificate verification on, and a clear error when it fails.

Every IMAP and SMTP connection (implicit TLS or STARTTLS) uses `tls_context(ca_file)`: the system's
trusted CAs, or the PEM bundle named by `PEPPER_GMAIL_CA_FILE` for a server with a private CA.
Host names and certificates are always checked; there is no switch to turn that off.
`refused_certificate(exc, where)` turns a failed verification into a message that says what to do.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from .provider import ProviderUnavailableError

__all__ = ["refused_certificate", "tls_context"]


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A verifying client context; trusts `ca_file` instead of the system CAs when given."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file.expanduser()))
    except (OSError, ssl.SSLError) as exc:
        raise ProviderUnavailableError(
            f"cannot load the CA certificates in {ca_file}: {exc}; "
            "set PEPPER_GMAIL_CA_FILE to a readable PEM file"
        ) from exc


def refused_certificate(exc: ssl.SSLCertVerificationError, where: str) -> ProviderUnavailableError:
    """The error to raise when the server's certificate failed verification."""
    return ProviderUnavailableError(
        f"the certificate of {where} was not accepted ({exc.verify_message or exc.reason}): "
        "if the server uses a private CA, set PEPPER_GMAIL_CA_FILE to that CA's PEM file; "
        "otherwise check the host name"
    )
