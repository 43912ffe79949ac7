"""TLS on the mail connections: IMAP (implicit TLS and STARTTLS, against the real Dovecot, for the
command connection and the IDLE one) and SMTP (aiosmtpd with STARTTLS and implicit TLS), with
certificates verified against a configured CA and refused with a clear error otherwise."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.imap_connection import ImapConnection
from mcp_servers.gmail.imap_idle import idle_session
from mcp_servers.gmail.provider import ProviderUnavailableError
from mcp_servers.gmail.settings import GmailSettings
from mcp_servers.gmail.smtp import SmtpSender
from mcp_servers.gmail.tls import tls_context
from tests.support.processes import free_port

from .certificates import Certificates, make_certificates
from .dovecot import Dovecot
from .messages import plain_message

pytestmark = pytest.mark.anyio
REFUSED = r"certificate of IMAP server 127\.0\.0\.1:\d+ was not accepted .*set PEPPER_GMAIL_CA_FILE"


def _settings(dovecot: Dovecot, tmp_path: Path, security: str, ca_file: Path | None) -> GmailSettings:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    return GmailSettings(
        provider="imap", imap_host="127.0.0.1", imap_port=port, imap_security=security,
        imap_username=dovecot.add_user(), imap_password=SecretStr("secret"), state_dir=tmp_path / "state",
        ca_file=ca_file,
    )  # fmt: skip


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_imap_provider_syncs_over_verified_tls(dovecot: Dovecot, tmp_path: Path, security: str) -> None:
    settings = _settings(dovecot, tmp_path, security, dovecot.ca_file)
    assert settings.imap_username
    context = tls_context(dovecot.ca_file)
    other = ImapConnection(
        "127.0.0.1", settings.imap_port, security, settings.imap_username, "secret", context=context
    )
    assert other.imap.sock.version() is not None  # the command connection is encrypted
    other.append("INBOX", plain_message(subject="sealed"), "")
    other.close()
    provider = ImapProvider(settings)
    await provider.open()
    try:
        (change,) = (await provider.list_changes(None, 10)).changes
        assert (await provider.get_message(change.message_id)).subject == "sealed"
    finally:
        await provider.aclose()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_idle_session_connects_over_verified_tls(dovecot: Dovecot, security: str) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    context = tls_context(dovecot.ca_file)
    user = dovecot.add_user()
    async with idle_session("127.0.0.1", port, security, user, "secret", "INBOX", context=context) as session:
        assert "IDLE" in session.capabilities
        assert await session.wait_for_change(0.05) is False


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_imap_certificate_from_an_unknown_ca_is_refused_clearly(
    dovecot: Dovecot, tmp_path: Path, security: str
) -> None:
    stranger = make_certificates(tmp_path / "other-ca")
    settings = _settings(dovecot, tmp_path, security, stranger.ca)
    with pytest.raises(ProviderUnavailableError, match=REFUSED):
        await ImapProvider(settings).open()
    assert settings.imap_username
    with pytest.raises(ProviderUnavailableError, match=REFUSED):
        async with idle_session(
            "127.0.0.1", settings.imap_port, security, settings.imap_username, "secret", "INBOX",
            context=tls_context(stranger.ca),
        ):  # fmt: skip
            pass


async def test_imap_verifies_against_the_system_cas_by_default(dovecot: Dovecot, tmp_path: Path) -> None:
    settings = _settings(dovecot, tmp_path, "tls", None)
    with pytest.raises(ProviderUnavailableError, match=REFUSED):
        await ImapProvider(settings).open()


async def test_unreadable_ca_file_is_a_clear_error(dovecot: Dovecot, tmp_path: Path) -> None:
    settings = _settings(dovecot, tmp_path, "tls", tmp_path / "missing.pem")
    with pytest.raises(ProviderUnavailableError, match=r"cannot load the CA certificates in .*missing\.pem"):
        await ImapProvider(settings).open()


@pytest.fixture(scope="module")
def smtp_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(params=["starttls", "tls"])
def smtp_sink(
    request: pytest.FixtureRequest, smtp_certificates: Certificates
) -> Iterator[tuple[str, int, list]]:
    """An aiosmtpd sink speaking STARTTLS or implicit TLS; yields (security, port, received)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandlerBase

    received: list = []

    class Sink(MessageHandlerBase):
        def handle_message(self, message) -> None:  # type: ignore[override]
            received.append(message)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(smtp_certificates.cert, smtp_certificates.key)
    port = free_port()
    if request.param == "tls":
        controller = Controller(Sink(), hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(
            Sink(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
        )
    controller.start()
    try:
        yield request.param, port, received
    finally:
        controller.stop()


def _outgoing() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ada@example.org", "bob@example.org", "Over TLS"
    message.set_content("sealed")
    return message


async def test_smtp_sends_over_verified_tls(
    smtp_sink: tuple[str, int, list], smtp_certificates: Certificates
) -> None:
    security, port, received = smtp_sink
    sender = SmtpSender("127.0.0.1", port, security=security, ca_file=smtp_certificates.ca)
    assert await sender.send(_outgoing()) == ["bob@example.org"]
    assert [m["Subject"] for m in received] == ["Over TLS"]


async def test_smtp_certificate_from_an_unknown_ca_is_refused_clearly(
    smtp_sink: tuple[str, int, list], tmp_path: Path
) -> None:
    security, port, received = smtp_sink
    stranger = make_certificates(tmp_path / "other-ca")
    sender = SmtpSender("127.0.0.1", port, security=security, ca_file=stranger.ca)
    with pytest.raises(
        ProviderUnavailableError, match=r"certificate of SMTP server 127\.0\.0\.1:\d+ was not accepted"
    ):
        await sender.send(_outgoing())
    assert received == []
