"""A real SMTP submission server for tests (aiosmtpd on loopback, plain, with AUTH PLAIN/LOGIN against
one login and password), keeping every message it accepts with the login that sent it, so a test can
tell which account's credentials a mail left with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from tests.support.processes import free_port

__all__ = ["Submission", "SubmissionServer", "running_submission_server"]


@dataclass(frozen=True)
class Submission:
    """One accepted mail: who logged in to send it, its envelope and the message."""

    login: str | None
    mail_from: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SubmissionServer:
    port: int
    login: str
    password: str
    received: list[Submission] = field(default_factory=list)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        given = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password)
        accepted = given == (self.login.encode(), self.password.encode())
        return AuthResult(success=accepted, handled=False, auth_data=auth_data)  # refused: a 535 answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.authenticated else None
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.received.append(Submission(login, envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@contextmanager
def running_submission_server(login: str, password: str) -> Iterator[SubmissionServer]:
    """An SMTP server on a free loopback port that takes AUTH with `login`/`password` without TLS."""
    from aiosmtpd.controller import Controller

    server = SubmissionServer(free_port(), login, password)
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        authenticator=server.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
