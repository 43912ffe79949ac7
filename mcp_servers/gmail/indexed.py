"""The provider machinery shared by backends that keep a local index and change journal.

A `MailStore` is the blocking, backend-specific half (Maildir files, an IMAP connection): it syncs
the journal with the mailbox (`scan`), reads raw messages, applies label changes and files new
messages. `IndexedProvider` is the async half every such backend shares: it runs the store in a
worker thread under one lock, answers searches from the index, serves the change feed from the
journal, and sends through SMTP when configured. Subclasses add `watch`.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
import threading
from abc import abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from typing import Protocol, TypeVar, runtime_checkable

import anyio

from .journal import IndexRow, Journal
from .models import (
    ChangePage,
    DraftRef,
    IndexProgress,
    Label,
    Message,
    MessageBatch,
    MessageSummary,
    SearchPage,
    SentRef,
    Thread,
)
from .provider import Changed, MailProvider, MailProviderError, NotFoundError
from .query import Query, QueryError
from .search_index import SearchFields
from .search_sql import plan_search
from .smtp import SmtpSender, recipients_of

__all__ = ["SYSTEM_LABELS", "IndexedProvider", "MailStore"]

T = TypeVar("T")
INDEX_STEP = 200  # messages indexed per step of the first indexing: tools wait at most one step
SYSTEM_LABELS = {"INBOX", "UNREAD", "STARRED", "TRASH", "SPAM", "SENT", "DRAFT"}


class MailStore(Protocol):
    """The blocking backend half of an indexed provider."""

    journal: Journal
    delivers_sent: bool  # True when filing under SENT is the sending itself (the Gmail API)

    def scan(self) -> int: ...
    def labels(self, row: IndexRow) -> list[str]: ...
    def folder_labels(self) -> list[str]: ...
    def read(self, row: IndexRow) -> Message: ...
    def raw(self, row: IndexRow) -> bytes: ...
    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]: ...
    def deliver(self, label: str, raw: bytes) -> str: ...
    def remove(self, row: IndexRow) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class SteppedStore(Protocol):
    """A store whose first indexing can be done a step at a time (see `MaildirStore.plan_index`)."""

    progress: IndexProgress | None

    def plan_index(self) -> int: ...
    def index_step(self, size: int) -> IndexProgress | None: ...


class IndexedProvider(MailProvider):
    """A `MailProvider` over a `MailStore`; see the module docstring."""

    def __init__(self, sender: SmtpSender | None = None) -> None:
        self._sender = sender
        self._lock = threading.Lock()
        self._store: MailStore | None = None
        self._indexing: IndexProgress | None = None

    @abstractmethod
    def _open_store(self) -> MailStore:
        """Connect to the backend and return its store (blocking; runs in a worker thread)."""

    @property
    def is_open(self) -> bool:
        return self._store is not None

    async def open(self) -> None:
        def prepare() -> None:
            store = self._open_store()
            store.scan()
            self._store = store

        await anyio.to_thread.run_sync(prepare)

    async def connect(self) -> None:
        def prepare() -> None:
            store = self._open_store()
            if isinstance(store, SteppedStore):  # planned before any tool can scan in one go
                store.plan_index()
            self._store = store

        self._indexing = IndexProgress(indexed=0, total=0)
        await anyio.to_thread.run_sync(prepare)
        self._indexing = getattr(self._store, "progress", self._indexing)

    @property
    def indexing(self) -> IndexProgress | None:
        return self._indexing

    async def index(self, changed: Changed, step: int = INDEX_STEP) -> None:
        """The first indexing after `connect`: a step at a time under the lock, so that tools answer
        between steps (from what is indexed so far); `changed()` after each step. A store that cannot
        step is scanned in one go (its tools wait for it, but the session is up)."""
        stepped = self._store
        if not isinstance(stepped, SteppedStore):
            await self.scan()
        else:
            while (progress := await self._run(lambda _: stepped.index_step(step))) is not None:
                self._indexing = progress
                await changed()
        self._indexing = None
        await changed()

    async def get_messages(self, ids: list[str]) -> MessageBatch:
        def read(store: MailStore) -> MessageBatch:
            batch = MessageBatch()
            for id in ids:
                try:
                    batch.messages.append(store.read(_require(store, id)))
                except MailProviderError as exc:
                    batch.missing[id] = str(exc)
            return batch

        return await self._run(read)

    async def aclose(self) -> None:
        if self._store is not None:
            await self._run(lambda store: store.close())
            self._store = None

    async def _run(self, work: Callable[[MailStore], T]) -> T:
        def locked() -> T:
            if self._store is None:
                raise MailProviderError("the mail provider is not open")
            with self._lock:
                return work(self._store)

        return await anyio.to_thread.run_sync(locked)

    async def scan(self) -> int:
        """Sync the index with the mailbox now; returns the number of new journal entries."""
        return await self._run(lambda store: store.scan())

    async def search_page(self, query: Query, limit: int, cursor: str | None = None, *,
                          now: datetime | None = None, zone: tzinfo | None = None,
                          me: str | None = None) -> SearchPage:  # fmt: skip
        moment = now or datetime.now(UTC)
        plan = plan_search(query, now=moment, zone=zone or moment.astimezone().tzinfo or UTC, me=me,
                           limit=limit, cursor=cursor)  # fmt: skip

        def find(store: MailStore) -> SearchPage:
            store.scan()
            _reread_legacy(store)
            try:
                found = store.journal.search(plan)
            except sqlite3.OperationalError as exc:  # FTS5 refusing an expression the parser let through
                raise QueryError(f"the index cannot run {query.text!r}: {exc}; simplify the query") from exc
            hits = [
                MessageSummary.model_validate({**row.summary, "labels": store.labels(row)})
                for row, _ in found[:limit]
            ]
            more = len(found) > limit
            return SearchPage(
                messages=hits, next_cursor=plan.next_cursor(found[limit - 1][1]) if more else None
            )

        return await self._run(find)

    async def get_message(self, id: str) -> Message:
        return await self._run(lambda store: store.read(_require(store, id)))

    async def get_raw(self, id: str) -> bytes:
        return await self._run(lambda store: store.raw(_require(store, id)))

    async def get_thread(self, thread_id: str) -> Thread:
        def read(store: MailStore) -> Thread:
            rows = store.journal.thread_rows(thread_id)
            if not rows:
                raise NotFoundError(f"no thread with id {thread_id!r}: take thread ids from search_messages")
            return Thread(id=thread_id, messages=[store.read(row) for row in rows])

        return await self._run(read)

    async def list_changes(self, since: str | None, limit: int, *, live: bool = False) -> ChangePage:
        def read(store: MailStore) -> ChangePage:
            store.journal.parse_cursor(since)  # a bad cursor fails before any work
            store.scan()
            return store.journal.changes(since, limit, live=live)

        return await self._run(read)

    async def list_labels(self) -> list[Label]:
        return await self._run(_labels)

    async def modify_labels(self, id: str, add: list[str], remove: list[str]) -> list[str]:
        for label in [*add, *remove]:
            if label in ("SENT", "DRAFT"):
                raise MailProviderError(f"label {label} is set by sending or drafting and cannot be changed")

        def relabel(store: MailStore) -> list[str]:
            store.scan()  # first record what other clients did, so that this change is journalled alone
            return store.relabel(_require(store, id), set(add), set(remove))

        return await self._run(relabel)

    async def save_draft(self, message: EmailMessage) -> DraftRef:
        def save(store: MailStore) -> DraftRef:
            draft_id = store.deliver("DRAFT", bytes(message))
            store.scan()
            return DraftRef(draft_id=draft_id, message_id=str(message["Message-ID"]))

        return await self._run(save)

    async def get_draft(self, draft_id: str) -> EmailMessage:
        def read(store: MailStore) -> EmailMessage:
            row = store.journal.row(draft_id)
            if row is None or "DRAFT" not in store.labels(row):
                raise NotFoundError(f"no draft with id {draft_id!r}: create one with create_draft")
            return email.message_from_bytes(store.raw(row), policy=email.policy.default)

        return await self._run(read)

    async def send(self, message: EmailMessage, draft_id: str | None = None) -> SentRef:
        recipients = recipients_of(message)
        if self._sender is not None and not (self._store and self._store.delivers_sent):
            recipients = await self._sender.send(message)
        if not recipients:
            raise MailProviderError("the message has no recipients: give at least one To address")

        def file_copy(store: MailStore) -> str:
            if draft_id and (draft := store.journal.row(draft_id)) is not None:
                store.remove(draft)
            sent_id = store.deliver("SENT", bytes(message))
            store.scan()
            return sent_id

        sent_id = await self._run(file_copy)
        delivered = self._sender is not None or bool(self._store and self._store.delivers_sent)
        return SentRef(
            id=sent_id, message_id=str(message["Message-ID"]), recipients=recipients, delivered=delivered
        )


def _require(store: MailStore, id: str) -> IndexRow:
    row = store.journal.row(id)
    if row is None:
        raise NotFoundError(f"no message with id {id!r}: take ids from search_messages or list_changes")
    return row


def _reread_legacy(store: MailStore) -> None:
    """Re-read, once, the messages an index from before schema 2 holds without their full search
    fields (Cc apart from To, Bcc, file names, size, lists, Delivered-To)."""
    legacy = store.journal.legacy_rows()
    if not legacy:
        return
    store.journal.begin()
    try:
        for row in legacy:
            try:
                store.journal.reindex(row.id, SearchFields.of(store.read(row)))
            except MailProviderError:  # gone or unreadable since: the next scan settles it
                continue
    finally:
        store.journal.commit()


def _labels(store: MailStore) -> list[Label]:
    counts: dict[str, list[int]] = {name: [0, 0] for name in store.folder_labels()}
    for row in store.journal.rows().values():
        labels = store.labels(row)
        for label in labels:
            total_unread = counts.setdefault(label, [0, 0])
            total_unread[0] += 1
            total_unread[1] += "UNREAD" in labels
    return [
        Label(
            id=name, name=name, type="system" if name in SYSTEM_LABELS else "user", total=total, unread=unread
        )
        for name, (total, unread) in sorted(counts.items())
    ]
