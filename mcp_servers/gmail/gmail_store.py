"""One Gmail sync over two transports: the store shared by the Gmail API and Composio providers.

`GmailStore` (a `MailStore`, blocking, run in a worker thread) keeps the local index and change
journal in step with a Gmail account through `GmailOperations`, the dozen Gmail operations it needs
(labels, the message listing, history, one message or many, modify, trash, send, drafts). Two
adapters supply them: google-api-python-client's `users()` resource (`gmail_api`) and Composio's
GMAIL_* tools (`composio_provider`). The first sync is stepped (`gmail_backlog`): newest first, a
page at a time with `get_messages` (one batch request per 50 on the Gmail API), from the profile's
historyId taken before the listing; later syncs read the history from it, taking the new historyId
from the history answer itself, so a change made while the pages are read is read again next time
rather than skipped. An expired
historyId (the adapters raise `NotFoundError` for Gmail's 404) falls back to a full listing that
journals only the difference with the index, so nothing is skipped or delivered twice. Each adapter
translates its own failures: `NotFoundError` for Gmail's 404, `ProviderUnavailableError` for auth and
reachability, `MailProviderError` otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any, Protocol

from .gmail_backlog import FirstIndex, Listing
from .journal import IndexRow, Journal
from .models import IndexProgress, Message
from .parsing import MessageParseError, parse_message
from .provider import MailProviderError, NotFoundError

__all__ = ["Fetched", "GmailOperations", "GmailStore"]

logger = logging.getLogger(__name__)
Page = dict[str, Any]
READ_PAGE = 200  # new messages read (`get_messages`) and journalled per step of a full sync


@dataclass
class Fetched:
    """One message as a transport returned it: its labels, thread, date and RFC 5322 bytes, or why
    the bytes could not be had (`error`, with `raw` None)."""

    label_ids: list[str]
    thread_id: str | None
    date: float
    raw: bytes | None
    error: str | None = None

    @classmethod
    def decoding(cls, label_ids: list[str], thread_id: str | None, date: float,
                 decode: Callable[[], bytes]) -> Fetched:  # fmt: skip
        """A fetched message whose bytes are `decode()`, or its `ValueError` as the error."""
        try:
            return cls(label_ids, thread_id, date, decode())
        except ValueError as exc:
            return cls(label_ids, thread_id, date, None, str(exc))


class GmailOperations(Protocol):
    """The Gmail operations `GmailStore` runs, over one transport; blocking. Pages are Gmail's own
    shapes (`messages` items `{"id", "labelIds"?}`, `history` records, `historyId`, `nextPageToken`)."""

    def list_labels(self) -> list[dict[str, Any]]: ...
    def create_label(self, name: str) -> dict[str, Any]: ...
    def profile(self) -> dict[str, Any]: ...  # Gmail's shape: historyId, messagesTotal
    def list_messages(self, page_token: str | None) -> Page: ...
    def list_history(self, start: str, page_token: str | None) -> Page: ...
    def label_ids(self, ids: list[str]) -> dict[str, list[str] | MailProviderError]: ...
    def get_message(self, id: str) -> Fetched: ...
    def get_messages(self, ids: list[str]) -> dict[str, Fetched | MailProviderError]: ...
    def modify(self, id: str, add: list[str], remove: list[str]) -> list[str] | None: ...
    def batch_modify(self, ids: list[str], add: list[str], remove: list[str]) -> None: ...
    def trash(self, id: str) -> None: ...
    def send(self, raw: bytes, thread_id: str | None = None) -> str: ...
    def create_draft(self, raw: bytes, thread_id: str | None = None) -> tuple[str, str]: ...
    def delete_draft(self, draft_id: str) -> None: ...
    def draft_ids(self) -> dict[str, str]: ...  # message id -> draft id, for every draft
    def rename_label(self, label_id: str, name: str) -> None: ...
    def delete_label(self, label_id: str) -> None: ...
    def close(self) -> None: ...


class GmailStore(FirstIndex):
    """One Gmail account over `GmailOperations` (a `MailStore`); blocking. `backlog_ops` is the
    transport the first indexing reads through outside the index lock: a second one when `ops` may
    not be used from two threads at once (google-api-python-client's httplib2), else `ops` itself."""

    delivers_sent = True  # Gmail files the sent copy under SENT itself

    def __init__(
        self, ops: GmailOperations, journal: Journal, backlog_ops: GmailOperations | None = None
    ) -> None:
        self.ops, self.journal = ops, journal
        self.backlog_ops = backlog_ops or ops
        self.names: dict[str, str] = {}
        self.progress: IndexProgress | None = None
        self._listing: Listing | None = None  # the first indexing's, while it runs
        self._refresh_labels()

    def close(self) -> None:
        self.ops.close()
        if self.backlog_ops is not self.ops:
            self.backlog_ops.close()
        self.journal.close()

    def _refresh_labels(self) -> None:
        self.names = {label["id"]: label.get("name", label["id"]) for label in self.ops.list_labels()}

    def labels(self, row: IndexRow) -> list[str]:
        return [self.names.get(label_id, label_id) for label_id in row.extra_labels]

    def folder_labels(self) -> list[str]:
        return sorted(self.names.values())

    # -- sync ------------------------------------------------------------------------------------

    def scan(self) -> int:
        """Bring the index up to date (history, or a full listing without a historyId); while the
        first indexing runs (it owns the journal's order then), only the mail that arrived since."""
        if self._listing is not None:
            return self.index_arrivals()
        before = self.journal.last_seq()
        history_id = self.journal.meta("history_id")
        if history_id is None:
            self._full_sync()
        else:
            try:
                self._incremental(history_id)
            except NotFoundError:
                logger.warning("Gmail historyId %s expired: resyncing in full", history_id)
                self._full_sync()
        return self.journal.last_seq() - before

    @staticmethod
    def _pages(fetch: Callable[[str | None], Page]) -> Iterator[Page]:
        token: str | None = None
        while True:
            page = fetch(token)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    def _full_sync(self) -> None:
        history_id = self.ops.profile()["historyId"]
        current = {
            item["id"]: item.get("labelIds")
            for page in self._pages(self.ops.list_messages)
            for item in page.get("messages", [])
        }
        indexed = self.journal.rows()
        with self.journal.transaction():
            for id in indexed.keys() - current.keys():
                self.journal.delete(id)
                self.journal.append("deleted", id, [])
            unlisted = [id for id in current.keys() & indexed.keys() if current[id] is None]
            asked = self.ops.label_ids(unlisted) if unlisted else {}  # batched: the listing has ids only
            for id in current.keys() & indexed.keys():
                found = asked.get(id) if current[id] is None else current[id]
                if isinstance(found, NotFoundError):
                    continue  # deleted since the listing: the next history sync says so
                if isinstance(found, MailProviderError):
                    raise found  # the resync is tried again, whole, next time
                self._set_label_ids(indexed[id], found or [])
            fresh = [id for id in current if id not in indexed]  # as listed: newest first
            for start in range(0, len(fresh), READ_PAGE):
                self._add_many(fresh[start : start + READ_PAGE])
            self.journal.set_meta("history_id", str(history_id))

    def _incremental(self, start: str) -> None:
        pages = list(self._pages(lambda token: self.ops.list_history(start, token)))
        records = [record for page in pages for record in page.get("history", [])]
        latest = max(
            [int(start), *(int(p.get("historyId") or 0) for p in pages), *(int(r["id"]) for r in records)]
        )
        added = [item["message"]["id"] for record in records for item in record.get("messagesAdded", [])]
        fetched = self.ops.get_messages([id for id in dict.fromkeys(added) if self.journal.row(id) is None])
        with self.journal.transaction():
            for record in records:
                self._apply(record, fetched)
            self.journal.set_meta("history_id", str(latest))

    def _apply(self, record: dict[str, Any], fetched: dict[str, Fetched | MailProviderError]) -> None:
        for item in record.get("messagesAdded", []):
            id = item["message"]["id"]
            if self.journal.row(id) is None and id in fetched:
                self._add(id, fetched[id])
        for key in ("labelsAdded", "labelsRemoved"):
            for item in record.get(key, []):
                row = self.journal.row(item["message"]["id"])
                if row is not None:
                    self._set_label_ids(row, item["message"].get("labelIds", []))
        for item in record.get("messagesDeleted", []):
            if self.journal.row(item["message"]["id"]) is not None:
                self.journal.delete(item["message"]["id"])
                self.journal.append("deleted", item["message"]["id"], [])

    def _add_many(self, ids: list[str]) -> None:
        fetched = self.ops.get_messages(ids)
        for id in ids:  # as listed, newest first
            self._add(id, fetched[id])

    def _add(self, id: str, found: Fetched | MailProviderError, *, backlog: bool = False) -> None:
        """Index and journal one fetched message; `backlog` marks a first indexing's entry."""
        if isinstance(found, NotFoundError):
            return  # added and deleted between the listing and now: nothing to report
        if isinstance(found, MailProviderError):
            raise found  # the sync stops here and is tried again, from the same point, next time
        row = IndexRow.of_error(id, "", "", "", found.date, "")
        row.extra_labels = found.label_ids
        labels = self.labels(row)
        try:
            if found.raw is None:
                raise ValueError(found.error or "no message content")
            message = parse_message(found.raw, id=id, labels=labels, thread_id=found.thread_id)
        except (MessageParseError, ValueError) as exc:
            row.error = getattr(exc, "reason", str(exc))
            self.journal.upsert(row)
            self.journal.append("added", id, labels, row.error, backlog=backlog)
            return
        indexed = IndexRow.of_message(message, "", "", "")
        indexed.extra_labels = found.label_ids
        self.journal.upsert(indexed)
        self.journal.append("added", id, labels, backlog=backlog)

    def _set_label_ids(self, row: IndexRow, label_ids: list[str]) -> None:
        if sorted(row.extra_labels) != sorted(label_ids):
            row.extra_labels = label_ids
            self.journal.upsert(row)
            self.journal.append("labels_changed", row.id, self.labels(row))

    # -- reading ---------------------------------------------------------------------------------

    def raw(self, row: IndexRow) -> bytes:
        found = self.ops.get_message(row.id)
        if found.raw is None:
            raise MailProviderError(f"message {row.id} cannot be read: {found.error}")
        return found.raw

    def read(self, row: IndexRow) -> Message:
        found = self._parsed(row, self.ops.get_message(row.id))
        if isinstance(found, MailProviderError):
            raise found
        return found

    def read_many(self, rows: list[IndexRow]) -> dict[str, Message | MailProviderError]:
        """Several messages in as few requests as the transport allows (Gmail's batch endpoint)."""
        try:
            fetched = self.ops.get_messages([row.id for row in rows])
        except MailProviderError as exc:  # the whole batch failed: each id says why
            return {row.id: exc for row in rows}
        return {row.id: self._parsed(row, fetched[row.id]) for row in rows}

    def _parsed(self, row: IndexRow, found: Fetched | MailProviderError) -> Message | MailProviderError:
        if isinstance(found, MailProviderError):
            return found
        if found.raw is None:
            return MailProviderError(f"message {row.id} cannot be read: {found.error}")
        try:
            return parse_message(found.raw, id=row.id, labels=self.labels(row), thread_id=row.thread_id)
        except MessageParseError as exc:
            return MailProviderError(f"message {row.id} cannot be read: {exc.reason}")

    # -- changing --------------------------------------------------------------------------------

    def _label_id(self, name: str) -> str:
        for label_id, label_name in self.names.items():
            if name in (label_id, label_name):
                return label_id
        created = self.ops.create_label(name)
        self.names[created["id"]] = created.get("name", name)
        return created["id"]

    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]:
        add_ids = [self._label_id(n) for n in sorted(add)]
        remove_ids = [self._label_id(n) for n in sorted(remove)]
        label_ids = self.ops.modify(row.id, add_ids, remove_ids)
        if label_ids is None:  # the transport did not say: the known labels, changed as asked
            label_ids = sorted((set(row.extra_labels) | set(add_ids)) - set(remove_ids))
        with self.journal.transaction():
            self._set_label_ids(row, label_ids)
        return self.labels(row)

    def relabel_many(self, rows: list[IndexRow], add: set[str], remove: set[str]) -> dict[str, list[str]]:
        """One `messages.batchModify` for every row (Gmail takes up to 1,000 ids a request)."""
        add_ids = [self._label_id(n) for n in sorted(add)]
        remove_ids = [self._label_id(n) for n in sorted(remove)]
        for start in range(0, len(rows), 1000):
            self.ops.batch_modify([row.id for row in rows[start : start + 1000]], add_ids, remove_ids)
        self.journal.begin()
        try:
            for row in rows:
                kept = [label for label in row.extra_labels if label not in remove_ids]
                self._set_label_ids(row, kept + [label for label in add_ids if label not in kept])
        finally:
            self.journal.commit()
        return {row.id: self.labels(row) for row in rows}

    def deliver(self, label: str, raw: bytes) -> str:
        thread_id = self._thread_replied_to(raw)
        if label == "DRAFT":
            draft_id, message_id = self.ops.create_draft(raw, thread_id)
            self.journal.set_meta(f"draft:{message_id}", draft_id)
            return message_id
        return self.ops.send(raw, thread_id)

    def _thread_replied_to(self, raw: bytes) -> str | None:
        """The Gmail thread of the message `raw` answers (its In-Reply-To): Gmail files a reply in
        the sender's thread only when the request names it, whatever the headers say."""
        replied = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True).get("In-Reply-To")
        return self.journal.thread_of(str(replied)) if replied else None

    def remove(self, row: IndexRow) -> None:
        draft_id = self.journal.meta(f"draft:{row.id}")
        if not draft_id and "DRAFT" in row.extra_labels:  # a draft written elsewhere: ask Gmail its id
            draft_id = self.ops.draft_ids().get(row.id)
        if draft_id:
            self.ops.delete_draft(draft_id)
        else:
            self.ops.trash(row.id)

    # -- label management (`manage.store_ops.LabelStore`) ------------------------------------------

    strips_on_drop = True  # Gmail takes a deleted label off its messages itself

    def make_label(self, name: str) -> None:
        self._label_id(name)

    def rename_label(self, name: str, new_name: str) -> None:
        label_id = self._label_id(name)
        self.ops.rename_label(label_id, new_name)
        self._relabelled(label_id, new_name)

    def drop_label(self, name: str) -> None:
        label_id = self._label_id(name)
        self.ops.delete_label(label_id)
        self._relabelled(label_id, None)

    def _relabelled(self, label_id: str, new_name: str | None) -> None:
        """Journal each message of label `label_id` now that it was renamed (or deleted: None)."""
        carried = [row for row in self.journal.rows().values() if label_id in row.extra_labels]
        before = {row.id: self.labels(row) for row in carried}
        if new_name is None:
            del self.names[label_id]
        else:
            self.names[label_id] = new_name
        self.journal.begin()
        try:
            for row in carried:
                if new_name is None:
                    row.extra_labels = [x for x in row.extra_labels if x != label_id]
                self.journal.update(row, before[row.id], self.labels(row))
        finally:
            self.journal.commit()
