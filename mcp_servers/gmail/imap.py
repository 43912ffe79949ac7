"""The IMAP + SMTP provider: any IMAP account (Gmail with an app password, Fastmail, Dovecot).

Reads and changes go through a blocking `imaplib` connection in a worker thread (`ImapStore`),
synced into the local index and change journal, so `list_changes` and search behave exactly as for
the Maildir provider. `watch` keeps a second connection in IDLE on the watched folder and syncs as
soon as the server reports a change; without IDLE it polls every `poll_seconds`. A dropped or
refused connection is retried with exponential backoff (1 s doubling to 60 s), and every
reconnection starts with a full sync, so a change made while disconnected is still reported, once.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, tzinfo

import anyio
from anyio.abc import TaskStatus

from .account_status import AccountHealth
from .imap_connection import ImapConnection
from .imap_idle import idle_session
from .imap_store import ImapStore
from .indexed import IndexedProvider, MailStore
from .journal import Journal
from .provider import Changed, MailProviderError
from .query import Query
from .settings import GmailSettings
from .smtp import SmtpSender
from .tls import tls_context

__all__ = ["ImapProvider"]

logger = logging.getLogger(__name__)
IDLE_SECONDS = 25 * 60
MAX_BACKOFF = 60.0
_CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    MailProviderError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)


class ImapProvider(IndexedProvider):
    """A mailbox on an IMAP server, sending through SMTP."""

    def __init__(self, settings: GmailSettings, sender: SmtpSender | None = None) -> None:
        super().__init__(sender)
        if not (settings.imap_host and settings.imap_username and settings.imap_password):
            raise MailProviderError(
                "the imap provider needs PEPPER_GMAIL_IMAP_HOST, PEPPER_GMAIL_IMAP_USERNAME and PEPPER_GMAIL_IMAP_PASSWORD"
            )
        self.settings = settings
        account = f"{settings.imap_host}:{settings.imap_port}:{settings.imap_username}"
        self.index_path = (
            settings.state_dir / f"imap-{hashlib.sha256(account.encode()).hexdigest()[:12]}.sqlite3"
        )
        self._account_health = AccountHealth(
            "imap", f"{settings.imap_username} on {settings.imap_host}:{settings.imap_port}"
        )
        self.idle_seconds = IDLE_SECONDS
        self.idling = False  # True while the watcher sits in IDLE (tests and status read it)

    def _credentials(self) -> tuple[str, int, str, str, str]:
        s = self.settings
        assert s.imap_host and s.imap_username and s.imap_password
        return s.imap_host, s.imap_port, s.imap_security, s.imap_username, s.imap_password.get_secret_value()

    def _connect(self) -> ImapConnection:
        return ImapConnection(*self._credentials(), context=tls_context(self.settings.ca_file))

    def _open_store(self) -> MailStore:
        return ImapStore(self._connect, Journal(self.index_path))

    async def server_search(
        self, query: Query, *, now: datetime | None = None, zone: tzinfo = UTC, me: str | None = None
    ) -> tuple[set[str], bool]:
        """Ids the IMAP server's own SEARCH finds for `query`, and whether that equals the index's
        answer exactly (else it is a superset); `search` answers from the index."""
        moment = now or datetime.now(UTC)
        return await self._run(lambda store: store.server_search(query, moment, zone=zone, me=me))  # type: ignore[attr-defined]

    async def watch(
        self, changed: Changed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        backoff = 1.0
        task_status.started()
        while True:
            try:
                context = await anyio.to_thread.run_sync(tls_context, self.settings.ca_file)
                folder = self.settings.imap_folder
                async with idle_session(*self._credentials(), folder, context=context) as session:
                    backoff = 1.0
                    await self._sync(changed)  # whatever happened while we were not listening
                    if "IDLE" not in session.capabilities:
                        await self._poll(changed)
                    while True:
                        self.idling = True
                        try:
                            change = await session.wait_for_change(self.idle_seconds)
                        finally:
                            self.idling = False
                        if change:
                            await self._sync(changed)
            except _CONNECTION_ERRORS as exc:
                logger.warning("IMAP watch interrupted (%s); reconnecting in %.0f s", exc, backoff)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _sync(self, changed: Changed) -> None:
        if await self.scan():
            await changed()

    async def _poll(self, changed: Changed) -> None:
        while True:
            await anyio.sleep(self.settings.poll_seconds)
            await self._sync(changed)
