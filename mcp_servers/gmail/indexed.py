"""The provider machinery shared by backends that keep a local index and change journal.

A `MailStore` is the blocking, backend-specific half (Maildir files, an IMAP connection): it syncs
the journal with the mailbox (`scan`), reads raw messages, applies label changes and files new
messages. `IndexedProvider` is the async half every such backend shares: it runs the store in a
worker thread under one lock, answers searches from the index, serves the change feed from the
journal, and sends through SMTP when configured. Subclasses add `watch`. The index file's own
failures (disk full, read-only, locked, corrupt) are translated around every piece of store work
(`index_errors`); while the index cannot be written, answers come from what it holds
(`index_trouble` says why) and `keep_index` tries again until it can.
"""

from __future__ import annotations

import email
import email.policy
import logging
import sqlite3
import threading
from abc import abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import anyio

from mcp_servers.common.priority import LowPriorityThread

from .index_errors import IndexStorageError, check_writable, translated
from .journal import IndexRow, Journal
from .manage import store_ops
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
from .provider import (
    Changed,
    CredentialsRefused,
    MailProvider,
    MailProviderError,
    NotFoundError,
    ProviderUnavailableError,
)
from .query import Query, QueryError
from .search_index import SearchFields
from .search_sql import plan_search
from .smtp import SmtpSender, recipients_of

__all__ = ["SYSTEM_LABELS", "IndexedProvider", "MailStore"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 5.0  # while the index cannot be written, how often writing it is tried again
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


@runtime_checkable
class ReadAheadStore(SteppedStore, Protocol):
    """A stepped store that reads each step from the account outside the index lock (`fetch_step`:
    the account or its files, and parsing, no index) and writes it under the lock (`write_step`), so
    that tools never wait for the account's answers or the parsing during the first indexing (the
    Gmail API: see `gmail_backlog`; Maildir)."""

    def fetch_step(self, size: int, unindexed: Callable[[list[str]], list[str]]) -> Any: ...
    def write_step(self, step: Any) -> IndexProgress | None: ...


@runtime_checkable
class UnlockedReader(Protocol):
    """A store whose messages, once their index rows are taken, are read without the index lock
    (Maildir: a message file is written once and only ever moved whole; `read` follows a move)."""

    unlocked_reads: Literal[True]


@runtime_checkable
class BatchReader(Protocol):
    """A store that reads many messages in fewer round trips than one each (IMAP, the Gmail API)."""

    def read_many(self, rows: list[IndexRow]) -> dict[str, Message | MailProviderError]: ...


def _rows(store: MailStore, ids: list[str]) -> tuple[list[IndexRow], dict[str, Message | MailProviderError]]:
    """The index rows of `ids`, and a `NotFoundError` for each id the index does not hold."""
    found: dict[str, Message | MailProviderError] = {}
    taken = []
    for id in ids:
        try:
            taken.append(_require(store, id))
        except NotFoundError as exc:
            found[id] = exc
    return taken, found


def _read_ids(store: MailStore, ids: list[str]) -> dict[str, Message | MailProviderError]:
    taken, found = _rows(store, ids)
    return found | _read_rows(store, taken)


def _read_rows(store: MailStore, rows: list[IndexRow]) -> dict[str, Message | MailProviderError]:
    return store.read_many(rows) if isinstance(store, BatchReader) else _read_each(store, rows)


def _batch(ids: list[str], found: dict[str, Message | MailProviderError]) -> MessageBatch:
    batch = MessageBatch()
    for id in ids:
        if isinstance(message := found[id], MailProviderError):
            batch.missing[id] = str(message)
        else:
            batch.messages.append(message)
    return batch


def _read_each(store: MailStore, rows: list[IndexRow]) -> dict[str, Message | MailProviderError]:
    found: dict[str, Message | MailProviderError] = {}
    for row in rows:
        try:
            found[row.id] = store.read(row)
        except MailProviderError as exc:
            found[row.id] = exc
    return found


class IndexedProvider(MailProvider):
    """A `MailProvider` over a `MailStore`; see the module docstring."""

    index_path: Path  # the index and change journal, under the state directory (set by each backend)

    def __init__(self, sender: SmtpSender | None = None) -> None:
        self._sender = sender
        self._lock = threading.Lock()
        # The first indexing's reading and parsing, below the tools and the rest of Pepper: years of
        # old mail take only the CPU that new mail, triage and the user's questions leave.
        self._background: LowPriorityThread | None = None  # started by the first indexing
        self._store: MailStore | None = None
        self._indexing: IndexProgress | None = None
        self._trouble: str | None = None
        self._announced: int | None = None  # the journal seq the last `scan` reported up to
        self.retry_seconds = RETRY_SECONDS

    @abstractmethod
    def _open_store(self) -> MailStore:
        """Connect to the backend and return its store (blocking; runs in a worker thread)."""

    @property
    def is_open(self) -> bool:
        return self._store is not None

    async def open(self) -> None:
        def prepare() -> None:
            check_writable(self.index_path)
            with translated(self.index_path):
                store = self._open_store()
                store.scan()
            self._store = store

        await self._reaching(prepare)

    async def connect(self) -> None:
        def prepare() -> None:
            check_writable(self.index_path)
            with translated(self.index_path):
                store = self._open_store()
                if isinstance(store, SteppedStore):  # planned before any tool can scan in one go
                    store.plan_index()
            self._store = store

        self._indexing = IndexProgress(indexed=0, total=0)
        await self._reaching(prepare)
        self._indexing = getattr(self._store, "progress", self._indexing)
        self._announced = await self._run(lambda store: store.journal.last_seq())

    @property
    def indexing(self) -> IndexProgress | None:
        return self._indexing

    async def index(self, changed: Changed, step: int = INDEX_STEP) -> None:
        """The first indexing after `connect`: a step at a time under the lock, so that tools answer
        between steps (from what is indexed so far); `changed()` after each step. After the first
        step, a `ReadAheadStore` reads and parses each step before taking the lock, on a thread
        below the tools' priority. A store that cannot step is scanned in one go (its tools wait for
        it, but the session is up)."""
        stepped = self._store
        if not isinstance(stepped, SteppedStore):
            await self.scan()
        else:
            # The first step is taken whole under the lock: a mailbox of one step is complete before
            # any tool answers from it.
            ahead = False
            while (progress := await self._index_step(stepped, step, ahead)) is not None:
                self._indexing, ahead = progress, True
                await changed()
        self._indexing = None
        await self.scan()  # what the steps journalled is announced next, with whatever came meanwhile
        await changed()

    async def _index_step(self, store: SteppedStore, size: int, ahead: bool = True) -> IndexProgress | None:
        """One step of the first indexing; while the index cannot be written or the account cannot
        be read, the same step again every `retry_seconds` (tools keep answering from what is indexed)."""
        while True:
            try:
                if ahead and isinstance(store, ReadAheadStore):
                    fetch = partial(store.fetch_step, size, self._unindexed)
                    fetched = await self._reaching(partial(self._background_thread().call, fetch))
                    return await self._run(partial(_write_step, store, fetched))
                return await self._run(lambda _: store.index_step(size))
            except IndexStorageError as exc:
                self._troubled(exc)
            except MailProviderError as exc:  # its `account_health` says so too
                logger.warning(
                    "the first indexing paused (%s); trying again in %g s", exc, self.retry_seconds
                )
            await anyio.sleep(self.retry_seconds)

    def _background_thread(self) -> LowPriorityThread:
        if self._background is None:
            self._background = LowPriorityThread("mail-index")
        return self._background

    def _unindexed(self, ids: list[str]) -> list[str]:
        """Those of `ids` the index does not hold (from a worker thread: takes the lock itself)."""
        with self._lock:
            if self._store is None:
                raise MailProviderError("the mail provider is not open")
            with translated(self._store.journal.path):
                return [id for id in ids if self._store.journal.row(id) is None]

    @property
    def index_trouble(self) -> str | None:
        return self._trouble

    async def keep_index(self, changed: Changed) -> None:
        """While the index cannot be written, sync it every `retry_seconds` until it can, so that
        mail that arrived meanwhile reaches the change feed once space returns (runs until cancelled)."""
        while True:
            await anyio.sleep(self.retry_seconds)
            if self._trouble is not None and self._store is not None and self._indexing is None:
                if await self.scan():
                    await changed()

    def _catch_up(self, store: MailStore) -> int:
        """Sync the index with the mailbox before answering from it; returns the new journal entries.
        When the index cannot be written, the answer comes from what it holds: 0, and
        `index_trouble` says why."""
        try:
            with translated(store.journal.path):
                added = store.scan()
                _reread_legacy(store)
        except IndexStorageError as exc:
            self._troubled(exc)
            return 0
        if self._trouble is not None:
            logger.warning("the mail index %s can be written again", store.journal.path)
            self._trouble = None
        return added

    def _troubled(self, exc: IndexStorageError) -> None:
        if str(exc) != self._trouble:
            logger.warning(
                "%s (answering from the index as it is; retrying every %g s)", exc, self.retry_seconds
            )
        self._trouble = str(exc)

    async def get_messages(self, ids: list[str]) -> MessageBatch:
        store = self._store
        if not isinstance(store, UnlockedReader):
            return await self._run(lambda store: _batch(ids, _read_ids(store, ids)))
        # Files written once: only the rows are taken under the lock, the reading and parsing is not,
        # so a batch of 100 never holds back other tools (new mail's `list_changes`) meanwhile.
        taken, found = await self._run(partial(_rows, ids=ids))
        found |= await self._reaching(partial(_read_rows, store, taken))
        moving = [row.id for row in taken if isinstance(found[row.id], MailProviderError)]
        if moving:  # a file moved (relabelled) as it was read: those are read again under the lock
            found |= await self._run(partial(_read_ids, ids=moving))
        return _batch(ids, found)

    async def aclose(self) -> None:
        if self._store is not None:
            await self._run(lambda store: store.close())
            self._store = None
        if self._background is not None:
            self._background.close()
            self._background = None

    async def _run(self, work: Callable[[MailStore], T]) -> T:
        def locked() -> T:
            if self._store is None:
                raise MailProviderError("the mail provider is not open")
            with self._lock, translated(self._store.journal.path):
                return work(self._store)

        return await self._reaching(locked)

    async def newest_message_at(self) -> float | None:
        """From the index alone (the account is not asked, so its health is not touched)."""

        def read() -> float | None:
            with self._lock:
                return self._store.journal.newest_date() if self._store is not None else None

        return await anyio.to_thread.run_sync(read)

    async def _reaching(self, call: Callable[[], T]) -> T:
        """Run blocking `call` in a worker thread, recording in `account_health` whether the account
        answered or could not be reached (or refused the credentials)."""
        try:
            result = await anyio.to_thread.run_sync(call)
        except ProviderUnavailableError as exc:
            self.account_health.failed(str(exc), refused=isinstance(exc, CredentialsRefused))
            raise
        self.account_health.reached()
        return result

    async def scan(self) -> int:
        """Sync the index with the mailbox now; returns how many journal entries were added since the
        previous `scan` returned, counting those a tool call's catch-up added meanwhile (a reader's
        `list_changes` may journal new mail first: its subscribers must still hear of it); 0 while
        the index cannot be written (`index_trouble` says why)."""

        def sync(store: MailStore) -> int:
            added = self._catch_up(store)
            last = store.journal.last_seq()
            announced, self._announced = self._announced, last
            return added if announced is None else max(last - announced, added)

        return await self._run(sync)

    async def search_page(self, query: Query, limit: int, cursor: str | None = None, *,
                          now: datetime | None = None, zone: tzinfo | None = None,
                          me: str | None = None) -> SearchPage:  # fmt: skip
        moment = now or datetime.now(UTC)
        plan = plan_search(query, now=moment, zone=zone or moment.astimezone().tzinfo or UTC, me=me,
                           limit=limit, cursor=cursor)  # fmt: skip

        def find(store: MailStore) -> SearchPage:
            self._catch_up(store)
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
            self._catch_up(store)
            return store.journal.changes(since, limit, live=live)

        return await self._run(read)

    async def list_labels(self) -> list[Label]:
        return await self._run(_labels)

    async def modify_labels(self, id: str, add: list[str], remove: list[str]) -> list[str]:
        for label in [*add, *remove]:
            if label in ("SENT", "DRAFT"):
                raise MailProviderError(f"label {label} is set by sending or drafting and cannot be changed")

        def relabel(store: MailStore) -> list[str]:
            self._catch_up(
                store
            )  # first record what other clients did, so that this change is journalled alone
            return store.relabel(_require(store, id), set(add), set(remove))

        return await self._run(relabel)

    async def modify_labels_many(self, ids: list[str], add: list[str], remove: list[str]) -> LabelChanges:
        for label in [*add, *remove]:
            if label in ("SENT", "DRAFT"):
                raise MailProviderError(f"label {label} is set by sending or drafting and cannot be changed")
        return await self._run(lambda store: store_ops.relabel_many(store, ids, set(add), set(remove)))

    async def save_draft(self, message: EmailMessage) -> DraftRef:
        def save(store: MailStore) -> DraftRef:
            draft_id = store.deliver("DRAFT", bytes(message))
            self._catch_up(store)  # the draft is in the mailbox: an index that cannot follow yet does later
            return DraftRef(draft_id=draft_id, message_id=str(message["Message-ID"]))

        return await self._run(save)

    async def get_draft(self, draft_id: str) -> EmailMessage:
        def read(store: MailStore) -> EmailMessage:
            row = store_ops.draft_row(store, draft_id)
            return email.message_from_bytes(store.raw(row), policy=email.policy.default)

        return await self._run(read)

    async def update_draft(self, draft_id: str, message: EmailMessage) -> DraftRef:
        raw, message_id = bytes(message), str(message["Message-ID"])
        return await self._run(lambda store: store_ops.replace_draft(store, draft_id, raw, message_id))

    async def delete_draft(self, draft_id: str) -> None:
        await self._run(lambda store: store_ops.delete_draft(store, draft_id))

    async def create_label(self, name: str) -> Label:
        return await self._run(lambda store: store_ops.create_label(store, name))

    async def rename_label(self, name: str, new_name: str) -> Label:
        return await self._run(lambda store: store_ops.rename_label(store, name, new_name))

    async def delete_label(self, name: str) -> int:
        return await self._run(lambda store: store_ops.delete_label(store, name))

    async def send(self, message: EmailMessage, draft_id: str | None = None) -> SentRef:
        recipients = recipients_of(message)
        by_smtp = self._sender is not None and not (self._store and self._store.delivers_sent)
        if by_smtp:
            assert self._sender is not None
            recipients = await self._sender.send(message)
        if not recipients:
            raise MailProviderError("the message has no recipients: give at least one To address")

        def file_copy(store: MailStore) -> str:
            if draft_id and (draft := store.journal.row(draft_id)) is not None:
                store.remove(draft)
            sent_id = store.deliver("SENT", bytes(message))
            self._catch_up(store)  # sent: an index that cannot follow yet must not make it look failed
            return sent_id

        try:
            sent_id = await self._run(file_copy)
        except (OSError, MailProviderError) as exc:
            if not by_smtp:
                raise
            # Sent already: failing now would have the caller send it again. Said in the log instead.
            logger.warning(
                "sent %s, but its copy could not be filed under Sent: %s", message["Message-ID"], exc
            )
            sent_id = ""
        delivered = self._sender is not None or bool(self._store and self._store.delivers_sent)
        return SentRef(
            id=sent_id, message_id=str(message["Message-ID"]), recipients=recipients, delivered=delivered
        )


def _write_step(store: ReadAheadStore, step: Any, _: MailStore) -> IndexProgress | None:
    return store.write_step(step)


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
    with store.journal.transaction():
        for row in legacy:
            try:
                store.journal.reindex(row.id, SearchFields.of(store.read(row)))
            except MailProviderError:  # gone or unreadable since: the next scan settles it
                continue


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
