"""The local Maildir provider: the embedded default, used by the demo and by offline tests.

It keeps the mailbox on disk as a Maildir++ tree (any mail client or `fetchmail`/`mbsync` can
deliver into it), an index and change journal in SQLite under the state directory, and watches
the tree with watchfiles so that a file landing in `new/` becomes an `added` change within
milliseconds. All disk and SQLite work runs in a worker thread under one lock. Sending goes through
SMTP when configured; without SMTP the message is only filed under Sent, and `SentRef.delivered`
says so.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
from anyio.abc import TaskStatus
from watchfiles import Change as FileChange
from watchfiles import awatch

from .journal import IndexRow, Journal
from .maildir_store import FOLDER_LABELS, MaildirStore, labels_of
from .models import ChangePage, DraftRef, Label, Message, MessageSummary, SentRef, Thread
from .parsing import MessageParseError, parse_file
from .provider import Changed, MailProvider, MailProviderError, NotFoundError
from .query import Query
from .smtp import SmtpSender, recipients_of

__all__ = ["MaildirProvider"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_SYSTEM = {"INBOX", "UNREAD", "STARRED", "TRASH", "SPAM", "SENT", "DRAFT"}


def _in_mail_dirs(change: FileChange, path: str) -> bool:
    return "/new/" in path or "/cur/" in path


class MaildirProvider(MailProvider):
    """A mailbox stored as a Maildir++ tree on the local disk."""

    def __init__(self, root: Path, state_dir: Path, sender: SmtpSender | None = None) -> None:
        self.root = root
        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
        self.index_path = state_dir / f"maildir-{digest}.sqlite3"
        self._sender = sender
        self._lock = threading.Lock()
        self._store: MaildirStore | None = None

    @property
    def is_open(self) -> bool:
        return self._store is not None

    async def open(self) -> None:
        def prepare() -> None:
            if self.root.exists() and not self.root.is_dir():
                raise MailProviderError(f"{self.root} is not a directory: --maildir needs a Maildir folder")
            self._store = MaildirStore(self.root, Journal(self.index_path))
            self._store.scan()

        await anyio.to_thread.run_sync(prepare)

    async def aclose(self) -> None:
        if self._store is not None:
            await self._run(lambda store: store.journal.close())
            self._store = None

    async def _run(self, work: Callable[[MaildirStore], T]) -> T:
        def locked() -> T:
            if self._store is None:
                raise MailProviderError("the Maildir provider is not open")
            with self._lock:
                return work(self._store)

        return await anyio.to_thread.run_sync(locked)

    async def scan(self) -> int:
        """Sync the index with the disk now; returns the number of new journal entries."""
        return await self._run(lambda store: store.scan())

    async def search(self, query: Query, limit: int) -> list[MessageSummary]:
        def find(store: MaildirStore) -> list[MessageSummary]:
            store.scan()
            rows = sorted(store.journal.rows().values(), key=lambda row: row.date, reverse=True)
            now = datetime.now(UTC)
            hits = [row for row in rows if row.error is None and _matches(query, row, now)]
            return [_summary(row) for row in hits[:limit]]

        return await self._run(find)

    async def get_message(self, id: str) -> Message:
        return await self._run(partial(_read_message, id=id))

    async def get_raw(self, id: str) -> bytes:
        return await self._run(lambda store: Path(store.require(id).path).read_bytes())

    async def get_thread(self, thread_id: str) -> Thread:
        def read(store: MaildirStore) -> Thread:
            rows = store.journal.thread_rows(thread_id)
            if not rows:
                raise NotFoundError(f"no thread with id {thread_id!r}: take thread ids from search_messages")
            return Thread(id=thread_id, messages=[_read_message(store, row.id) for row in rows])

        return await self._run(read)

    async def list_changes(self, since: str | None, limit: int) -> ChangePage:
        def read(store: MaildirStore) -> ChangePage:
            store.journal.parse_cursor(since)  # a bad cursor fails before any work
            store.scan()
            return store.journal.changes(since, limit)

        return await self._run(read)

    async def list_labels(self) -> list[Label]:
        return await self._run(_labels)

    async def modify_labels(self, id: str, add: list[str], remove: list[str]) -> list[str]:
        return await self._run(partial(_modify, id=id, add=add, remove=remove))

    async def save_draft(self, message: EmailMessage) -> DraftRef:
        def save(store: MaildirStore) -> DraftRef:
            key = store.deliver("Drafts", bytes(message), flags="DS")
            store.scan()
            return DraftRef(draft_id=key, message_id=str(message["Message-ID"]))

        return await self._run(save)

    async def get_draft(self, draft_id: str) -> EmailMessage:
        def read(store: MaildirStore) -> EmailMessage:
            row = store.journal.row(draft_id)
            if row is None or row.folder != "Drafts":
                raise NotFoundError(f"no draft with id {draft_id!r}: create one with create_draft")
            return email.message_from_bytes(Path(row.path).read_bytes(), policy=email.policy.default)

        return await self._run(read)

    async def send(self, message: EmailMessage, draft_id: str | None = None) -> SentRef:
        recipients = await self._sender.send(message) if self._sender else recipients_of(message)
        if not recipients:
            raise MailProviderError("the message has no recipients: give at least one To address")

        def file_copy(store: MaildirStore) -> str:
            if draft_id and (draft := store.journal.row(draft_id)) is not None:
                store.remove(draft)
            key = store.deliver("Sent", bytes(message), flags="S")
            store.scan()
            return key

        key = await self._run(file_copy)
        return SentRef(
            id=key,
            message_id=str(message["Message-ID"]),
            recipients=recipients,
            delivered=self._sender is not None,
        )

    async def watch(
        self, changed: Changed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        stop = anyio.Event()

        async def stop_on_cancel() -> None:
            try:
                await anyio.sleep_forever()
            finally:
                stop.set()  # wakes the watcher thread, so cancellation is prompt

        async with anyio.create_task_group() as group:
            group.start_soon(stop_on_cancel)
            watcher = awatch(self.root, watch_filter=_in_mail_dirs, debounce=50, step=20, stop_event=stop)
            task_status.started()
            async for _ in watcher:
                if await self.scan():
                    await changed()


def _read_message(store: MaildirStore, id: str) -> Message:
    row = store.require(id)
    if not Path(row.path).exists():  # moved by another client since the last scan
        store.scan()
        row = store.require(id)
    labels = labels_of(row.folder, row.flags, row.extra_labels)
    try:
        return parse_file(Path(row.path), id=id, labels=labels, thread_id=row.thread_id)
    except MessageParseError as exc:
        raise MailProviderError(f"message {id} cannot be read: {exc.reason}") from exc


def _summary(row: IndexRow) -> MessageSummary:
    return MessageSummary.model_validate(
        {**row.summary, "labels": labels_of(row.folder, row.flags, row.extra_labels)}
    )


def _matches(query: Query, row: IndexRow, now: datetime) -> bool:
    summary, text = row.summary, row.search_text
    sender = summary.get("from") or {}
    sender_text = f"{sender.get('name', '')} <{sender.get('email', '')}>".lower()
    labels = {label.lower() for label in labels_of(row.folder, row.flags, row.extra_labels)}
    since = query.since(now)
    return (
        all(term in sender_text for term in query.sender)
        and all(term in text.split("\n", 2)[1] for term in query.recipient)
        and all(term in (summary.get("subject") or "").lower() for term in query.subject)
        and all(label.lower() in labels for label in query.labels)
        and (query.unread is None or query.unread == ("unread" in labels))
        and (query.starred is None or query.starred == ("starred" in labels))
        and (not query.has_attachment or row.has_attachment)
        and (since is None or row.date >= since.timestamp())
        and all(word in text for word in query.words)
    )


def _labels(store: MaildirStore) -> list[Label]:
    counts: dict[str, list[int]] = {}
    for folder in store.folders():
        name = FOLDER_LABELS.get(folder, folder)
        if name:
            counts.setdefault(name, [0, 0])
    for row in store.journal.rows().values():
        labels = labels_of(row.folder, row.flags, row.extra_labels)
        for label in labels:
            total_unread = counts.setdefault(label, [0, 0])
            total_unread[0] += 1
            total_unread[1] += "UNREAD" in labels
    return [
        Label(id=name, name=name, type="system" if name in _SYSTEM else "user", total=total, unread=unread)
        for name, (total, unread) in sorted(counts.items())
    ]


def _target_folder(row: IndexRow, labels: set[str]) -> str:
    if "TRASH" in labels:
        return "Trash"
    if "SPAM" in labels:
        return "Spam"
    if "INBOX" in labels:
        return ""
    current = FOLDER_LABELS.get(row.folder, row.folder)
    if row.folder not in ("", "Trash", "Spam") and (not current or current in labels):
        return row.folder
    return "Archive"


def _modify(store: MaildirStore, id: str, add: list[str], remove: list[str]) -> list[str]:
    for label in [*add, *remove]:
        if label in ("SENT", "DRAFT"):
            raise MailProviderError(f"label {label} is set by sending or drafting and cannot be changed")
    store.scan()  # first record what other clients did, so that this change is journalled alone
    row = store.require(id)
    wanted = (set(labels_of(row.folder, row.flags, row.extra_labels)) | set(add)) - set(remove)
    folder = _target_folder(row, wanted)
    flags = set(row.flags) - {"S", "F"}
    flags |= set() if "UNREAD" in wanted or folder in ("Sent", "Drafts") else {"S"}
    flags |= {"F"} if "STARRED" in wanted else set()
    folder_label = FOLDER_LABELS.get(folder, folder)
    extra = sorted(wanted - _SYSTEM - {folder_label})
    return store.relabel(row, folder, "".join(flags), extra)
