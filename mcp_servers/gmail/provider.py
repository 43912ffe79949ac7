"""The `MailProvider` interface every mailbox backend implements, and the errors they raise.

The server speaks only to this interface. Providers own their connections (opened in `open`,
closed in `aclose`), keep a durable change journal behind `list_changes`, and call the `changed`
callback given to `watch` whenever that journal grows. Errors are a small tree rooted at
`MailProviderError`; their messages say what went wrong and what to do, and the server passes them
to the client unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from email.message import EmailMessage

import anyio
from anyio.abc import TaskStatus

from .account_status import AccountHealth
from .models import (
    ChangePage,
    DraftRef,
    IndexProgress,
    Label,
    LabelChanges,
    Message,
    MessageBatch,
    MessageSummary,
    SearchPage,
    SentRef,
    Thread,
)
from .query import Query

__all__ = [
    "CredentialsRefused",
    "CursorError",
    "MailProvider",
    "MailProviderError",
    "NotFoundError",
    "ProviderUnavailableError",
]

Changed = Callable[[], Awaitable[None]]


class MailProviderError(Exception):
    """Something the client can act on went wrong in the mailbox backend."""


class NotFoundError(MailProviderError):
    """No message, thread or draft has that id."""


class CursorError(MailProviderError):
    """A `list_changes` cursor is malformed or belongs to another (or a reset) change journal."""


class ProviderUnavailableError(MailProviderError):
    """The mail server cannot be reached or refused the credentials."""


class CredentialsRefused(ProviderUnavailableError):
    """The account refused the credentials (a wrong password, an expired or revoked token): waiting
    does not help, the user must sign in again."""


class MailProvider(ABC):
    """A mailbox: search and read, a change feed, label changes, drafts and sending."""

    @property
    def account_health(self) -> AccountHealth:
        """What the provider saw of its account (`account_status`); providers set `_account_health`."""
        health: AccountHealth | None = vars(self).get("_account_health")
        if health is None:
            health = self._account_health = AccountHealth(type(self).__name__, "")
        return health

    async def newest_message_at(self) -> float | None:
        """The date of the newest message the provider knows (epoch seconds); None when unknown."""
        return None

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """True between `open` and `aclose`."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and prepare; called once before any other method."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""

    async def connect(self) -> None:
        """Connect without the first indexing, which `index` then does while the server answers
        (the default: `open`, which indexes at once)."""
        await self.open()

    async def index(self, changed: Changed) -> None:
        """Do the first indexing after `connect`, calling `changed()` as it goes (the default: none)."""
        return None

    @property
    def indexing(self) -> IndexProgress | None:
        """How far the first indexing has come; None when it is done (or was never needed)."""
        return None

    @property
    def index_trouble(self) -> str | None:
        """Why the local index cannot be written just now (answers come from what it holds), or None."""
        return None

    async def keep_index(self, changed: Changed) -> None:
        """Bring a local index back up to date once it can be written again (the default: no index)."""
        await anyio.sleep_forever()

    async def get_messages(self, ids: list[str]) -> MessageBatch:
        """Several messages at once, in the order asked; ids that cannot be read go to `missing`."""
        batch = MessageBatch()
        for id in ids:
            try:
                batch.messages.append(await self.get_message(id))
            except MailProviderError as exc:
                batch.missing[id] = str(exc)
        return batch

    @abstractmethod
    async def search_page(
        self, query: Query, limit: int, cursor: str | None = None, *,
        now: datetime | None = None, zone: tzinfo | None = None, me: str | None = None,
    ) -> SearchPage:  # fmt: skip
        """A page of the messages matching `query`, newest first, after `cursor` (a previous page's
        `next_cursor`); `now` and `zone` date relative and calendar terms, `me` is `from:me`."""

    async def search(self, query: Query, limit: int) -> list[MessageSummary]:
        """The first `limit` messages matching `query`, newest first."""
        return (await self.search_page(query, limit)).messages

    @abstractmethod
    async def get_message(self, id: str) -> Message:
        """One message, fully normalized."""

    @abstractmethod
    async def get_raw(self, id: str) -> bytes:
        """The message as stored (for forwarding)."""

    @abstractmethod
    async def get_thread(self, thread_id: str) -> Thread:
        """Every message of a conversation, oldest first."""

    @abstractmethod
    async def list_changes(self, since: str | None, limit: int, *, live: bool = False) -> ChangePage:
        """Changes after cursor `since` (from the beginning when None), oldest first; with `live`,
        only those not found by a first indexing (new mail, moves, flag changes)."""

    @abstractmethod
    async def list_labels(self) -> list[Label]:
        """Every label with its counts."""

    @abstractmethod
    async def modify_labels(self, id: str, add: list[str], remove: list[str]) -> list[str]:
        """Add and remove labels on a message; returns its labels afterwards."""

    @abstractmethod
    async def save_draft(self, message: EmailMessage) -> DraftRef:
        """Store `message` as a draft."""

    @abstractmethod
    async def send(self, message: EmailMessage, draft_id: str | None = None) -> SentRef:
        """Send `message` (removing draft `draft_id` if given) and keep a copy under SENT."""

    @abstractmethod
    async def get_draft(self, draft_id: str) -> EmailMessage:
        """A stored draft, ready to send."""

    async def update_draft(self, draft_id: str, message: EmailMessage) -> DraftRef:
        """Replace draft `draft_id` with `message`; returns the new draft (its id changes)."""
        raise MailProviderError(f"{type(self).__name__} cannot change drafts")

    async def delete_draft(self, draft_id: str) -> None:
        """Delete draft `draft_id` for good."""
        raise MailProviderError(f"{type(self).__name__} cannot delete drafts")

    async def create_label(self, name: str) -> Label:
        """Create an empty user label (an IMAP or Maildir folder)."""
        raise MailProviderError(f"{type(self).__name__} cannot create labels")

    async def rename_label(self, name: str, new_name: str) -> Label:
        """Rename user label `name`, on every message that has it."""
        raise MailProviderError(f"{type(self).__name__} cannot rename labels")

    async def delete_label(self, name: str) -> int:
        """Delete user label `name`, taking it off its messages (which stay); returns how many had it."""
        raise MailProviderError(f"{type(self).__name__} cannot delete labels")

    async def modify_labels_many(self, ids: list[str], add: list[str], remove: list[str]) -> LabelChanges:
        """`modify_labels` on each of `ids`; ids that cannot be changed go to `missing`."""
        changes = LabelChanges()
        for id in ids:
            try:
                changes.labels[id] = await self.modify_labels(id, add, remove)
            except NotFoundError as exc:
                changes.missing[id] = str(exc)
        return changes

    @abstractmethod
    async def watch(self, changed: Changed, *, task_status: TaskStatus[None]) -> None:
        """Run until cancelled, calling `changed()` whenever the change journal grows."""
