"""A minimal async IMAP client that only waits: login, SELECT, then IDLE until the folder changes.

The command connection (`imap_connection`) is blocking and lives in a worker thread; push needs a
second connection that can sit in IDLE for minutes and be cancelled at once, so this one speaks
the few commands it needs over an anyio stream. `IdleSession.wait_for_change(seconds)` returns
True as soon as the server reports EXISTS, EXPUNGE, FETCH or RECENT, False when the period ends
(RFC 2177 asks clients to re-issue IDLE at least every 29 minutes).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.streams.buffered import BufferedByteReceiveStream
from anyio.streams.tls import TLSStream

from .imap_connection import quote
from .provider import ProviderUnavailableError
from .tls import refused_certificate
from .utf7 import encode_mailbox

__all__ = ["IdleSession", "idle_session"]

_CHANGE = re.compile(rb"^\* \d+ (EXISTS|EXPUNGE|FETCH|RECENT)\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\}$")
_TIMEOUT = 30


class IdleSession:
    """A selected IMAP folder on its own connection."""

    def __init__(self, stream: anyio.abc.ByteStream, where: str) -> None:
        self._stream = stream
        self._reader = BufferedByteReceiveStream(stream)
        self._tags = 0
        self.where = where
        self.capabilities: set[str] = set()

    async def _line(self) -> bytes:
        line = await self._reader.receive_until(b"\r\n", 1024 * 1024)
        while (literal := _LITERAL.search(line)) is not None:  # skip a literal and the rest of its line
            await self._reader.receive_exactly(int(literal.group(1)))
            line = await self._reader.receive_until(b"\r\n", 1024 * 1024)
        return line

    async def command(self, text: str) -> list[bytes]:
        """Send a command; returns its untagged lines, or raises unless it ends OK."""
        self._tags += 1
        tag = f"w{self._tags}".encode()
        await self._stream.send(tag + b" " + text.encode() + b"\r\n")
        untagged: list[bytes] = []
        with anyio.fail_after(_TIMEOUT):
            while not (line := await self._line()).startswith(tag + b" "):
                untagged.append(line)
        if not line[len(tag) + 1 :].upper().startswith(b"OK"):
            verb = text.split()[0]
            raise ProviderUnavailableError(
                f"IMAP server {self.where} refused {verb}: {line.decode(errors='replace')}"
            )
        return untagged

    async def wait_for_change(self, seconds: float) -> bool:
        """IDLE until the server reports a change (True) or `seconds` pass (False)."""
        self._tags += 1
        tag = f"w{self._tags}".encode()
        await self._stream.send(tag + b" IDLE\r\n")
        changed = False
        with anyio.fail_after(_TIMEOUT):
            while not (line := await self._line()).startswith(b"+"):
                changed = changed or bool(_CHANGE.match(line))
                if line.startswith(tag + b" "):
                    raise ProviderUnavailableError(f"IMAP server {self.where} refused IDLE: {line!r}")
        with anyio.move_on_after(seconds):
            while not changed:
                changed = bool(_CHANGE.match(await self._line()))
        await self._stream.send(b"DONE\r\n")
        with anyio.fail_after(_TIMEOUT):
            while not (await self._line()).startswith(tag + b" "):
                pass
        return changed


@asynccontextmanager
async def idle_session(
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    folder: str,
    *,
    context: ssl.SSLContext | None = None,
) -> AsyncIterator[IdleSession]:
    """Connect, log in and select `folder`; logs out on exit."""
    where = f"{host}:{port}"
    context = context or ssl.create_default_context()
    with anyio.fail_after(_TIMEOUT):
        stream: anyio.abc.ByteStream = await anyio.connect_tcp(host, port)
    try:
        with anyio.fail_after(_TIMEOUT):
            if security == "tls":
                stream = await _wrap(stream, host, context, where)
            session = IdleSession(stream, where)
            await session._line()  # greeting
            if security == "starttls":
                await session.command("STARTTLS")
                stream = await _wrap(stream, host, context, where)
                session = IdleSession(stream, where)
            await session.command(f"LOGIN {quote(username)} {quote(password)}")
            for line in await session.command("CAPABILITY"):
                if line.upper().startswith(b"* CAPABILITY "):
                    session.capabilities = set(line[13:].decode().upper().split())
            await session.command(f"EXAMINE {quote(encode_mailbox(folder))}")
        yield session
    finally:
        with anyio.move_on_after(2, shield=True):
            await stream.aclose()


async def _wrap(
    stream: anyio.abc.ByteStream, host: str, context: ssl.SSLContext, where: str
) -> anyio.abc.ByteStream:
    try:
        return await TLSStream.wrap(stream, hostname=host, ssl_context=context, standard_compatible=False)
    except ssl.SSLCertVerificationError as exc:
        raise refused_certificate(exc, f"IMAP server {where}") from exc
