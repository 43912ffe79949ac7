"""An IMAP account as a Gmail-like mailbox, synced into the local index and change journal.

Folders map to labels by their SPECIAL-USE role (INBOX, Sent, Drafts, Trash, Junk; Archive means
"no label") and other folders to their own name; `\\Seen` missing is UNREAD, `\\Flagged` is
STARRED, and IMAP keywords are user labels. `scan()` compares each folder's UIDs and flags with
the index, Sent first, then INBOX: new UIDs are fetched newest first (highest UID first) a page at
a time (`imap_pages`: one UID FETCH over a compact UID set such as `1000:1199`) and parsed (one bad
message is journalled with its error); vanished UIDs are `deleted`, changed flags are
`labels_changed`. A first indexing can instead be planned and done a page at a time while the
server answers (`imap_backlog`). `read_many` reads a batch with one
SELECT and one FETCH per folder. When the server has CONDSTORE, a folder whose HIGHESTMODSEQ,
UIDNEXT and count are unchanged costs one SELECT, and otherwise only messages changed since the
stored HIGHESTMODSEQ are fetched (`CHANGEDSINCE`); without it, every UID's flags. When a folder's
UIDVALIDITY changes, its old entries are journalled as deleted and everything is fetched again, so
nothing is skipped. Message ids are assigned at first sight and survive moves made through this
store (the server's COPYUID says where the message went). A dropped connection is reopened once
per operation.
"""

from __future__ import annotations

import imaplib
import logging
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import TypeVar

from .imap_backlog import Batch, FirstIndex, Waiting
from .imap_connection import FETCH_CHUNK, Folder, ImapConnection, Selection
from .imap_pages import fetch_page, fetch_rows, pages
from .indexed import SYSTEM_LABELS
from .journal import IndexRow, Journal
from .models import IndexProgress, Message
from .parsing import MessageParseError, parse_message
from .provider import MailProviderError, NotFoundError, ProviderUnavailableError
from .query import Query
from .query_mapping import imap_search

__all__ = ["ImapStore"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_LETTERS = {"\\seen": "S", "\\flagged": "F", "\\draft": "D", "\\answered": "R", "\\deleted": "T"}
_KEYWORD = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _search_folder(conn: ImapConnection, name: str, criteria: list[str]) -> tuple[int, set[int]]:
    return conn.select(name).validity, conn.uids(tuple(criteria))


def _gone(row: IndexRow) -> NotFoundError:
    return NotFoundError(f"message {row.id} was moved or deleted by another client: call list_changes")


def _letters(flags: list[str]) -> str:
    return "".join(sorted({_LETTERS[f.lower()] for f in flags if f.lower() in _LETTERS}))


def _keywords(flags: list[str]) -> list[str]:
    return sorted(f for f in flags if not f.startswith(("\\", "$")))


class ImapStore(FirstIndex):
    """Syncs and changes one IMAP account (a `MailStore`); blocking, used from a worker thread."""

    delivers_sent = False

    def __init__(self, connect: Callable[[], ImapConnection], journal: Journal) -> None:
        self._connect = connect
        self.conn = connect()
        self._lost = False  # True while self.conn is a closed session that could not be replaced
        self.journal = journal
        self.folders = {folder.name: folder for folder in self.conn.folders()}
        self._backlog: list[Waiting] = []  # the first indexing's messages still to fetch
        self.planned: dict[str, tuple[int, int]] = {}  # folder → (UIDVALIDITY, UIDNEXT) at the plan
        self.progress: IndexProgress | None = None

    def close(self) -> None:
        self.conn.close()
        self.journal.close()

    def _call(self, operation: Callable[[ImapConnection], T]) -> T:
        if self._lost:  # the server was away at the last reconnect: try again now, not the dead session
            self.conn = self._connect()
            self._lost = False
        try:
            return operation(self.conn)
        except (imaplib.IMAP4.abort, OSError) as exc:
            logger.warning("IMAP connection lost (%s); reconnecting", exc)
            self.conn.close()
            self._lost = True
            self.conn = self._connect()
            self._lost = False
            return operation(self.conn)

    def _role_folder(self, role: str) -> Folder:
        found = next((f for f in self.folders.values() if f.role == role), None)
        if found is None:
            raise MailProviderError(
                f"the IMAP account has no {role.lower()} folder: create one on the server"
            )
        return found

    def labels(self, row: IndexRow) -> list[str]:
        folder = self.folders.get(row.folder, Folder(row.folder, None))
        labels = [folder.label] if folder.label else []
        if "S" not in row.flags and folder.role not in ("SENT", "DRAFT"):
            labels.append("UNREAD")
        if "F" in row.flags:
            labels.append("STARRED")
        return labels + [k for k in row.extra_labels if k not in labels]

    def folder_labels(self) -> list[str]:
        return sorted({f.label for f in self.folders.values() if f.label})

    def scan(self) -> int:
        """Bring the index up to date with every folder; does nothing while the first indexing has
        a backlog (`plan_index`: it owns the journal's order then) but index the inbox's arrivals."""
        if self._backlog:
            return self.index_arrivals()
        before = self.journal.last_seq()
        for folder in self._ordered_folders():
            self._call(partial(self._scan_folder, folder=folder))
        return self.journal.last_seq() - before

    def _ordered_folders(self) -> list[Folder]:
        self.folders = {folder.name: folder for folder in self._call(lambda conn: conn.folders())}
        # Sent first, as in the Maildir store: a first sync journals the user's own mail before the
        # inbox; then the inbox, the mail that can need the user, before the other folders.
        return sorted(self.folders.values(), key=lambda f: (f.role != "SENT", f.role != "INBOX"))

    def _scan_folder(self, conn: ImapConnection, folder: Folder, defer: bool = False) -> list[Waiting]:
        """Sync one folder; with `defer`, its new messages are returned (newest first) instead of
        fetched, and its HIGHESTMODSEQ is not stored, so the scan after them reads every flag."""
        selected = conn.select(folder.name)
        validity = selected.validity
        paths = self.journal.paths(folder.name)  # path → id; whole rows only for flag changes
        with self.journal.transaction():
            if self.journal.meta(f"uidvalidity:{folder.name}") not in (None, str(validity)):
                logger.warning("UIDVALIDITY of %s changed: resyncing the folder", folder.name)
                for id in paths.values():
                    self.journal.delete(id)
                    self.journal.append("deleted", id, [])
                paths = {}
            self.journal.set_meta(f"uidvalidity:{folder.name}", str(validity))
            changed, vanished = self._changes(conn, folder, selected, paths)
            for path in vanished:
                self.journal.delete(paths[path])
                self.journal.append("deleted", paths[path], [])
            self._update_flags(folder, validity, changed, paths)
            fresh = [uid for uid in sorted(changed, reverse=True) if f"{validity}:{uid}" not in paths]
            if defer:
                if selected.uidnext is not None:
                    self.planned[folder.name] = (validity, selected.uidnext)
                return [(folder.name, validity, uid, *changed[uid]) for uid in fresh]
            for page in pages(fresh, {uid: changed[uid][1] for uid in fresh}):
                self._add(conn, folder, validity, {uid: changed[uid] for uid in page})
                self.journal.commit()
                self.journal.begin()
            if selected.modseq is not None:
                self.journal.set_meta(
                    f"modseq:{folder.name}", f"{validity}:{selected.modseq}:{selected.uidnext}"
                )
            return []

    def _update_flags(self, folder: Folder, validity: int, changed: Batch, paths: dict[str, str]) -> None:
        if not any(f"{validity}:{uid}" in paths for uid in changed):
            return
        rows = {row.path: row for row in self.journal.rows(folder.name).values()}
        for uid, (flags, _) in changed.items():
            if (known := rows.get(f"{validity}:{uid}")) is not None:
                self._update(known, flags)

    def _changes(
        self, conn: ImapConnection, folder: Folder, selected: Selection, paths: dict[str, str]
    ) -> tuple[Batch, list[str]]:
        """Flags and sizes of the folder's new and changed messages, and the paths of vanished ones.

        With CONDSTORE and a stored HIGHESTMODSEQ only what changed since is fetched; a message
        count that differs from what is then known means something was expunged, found by UID.
        """
        known = {int(path.partition(":")[2]) for path in paths}
        stored = (self.journal.meta(f"modseq:{folder.name}") or "::").split(":")
        if selected.modseq is None or stored[0] != str(selected.validity) or not stored[1]:
            current = conn.flags(selected.exists)  # the full flag scan
            return current, [f"{selected.validity}:{uid}" for uid in known - current.keys()]
        if (stored[1], stored[2]) == (str(selected.modseq), str(selected.uidnext)) and len(
            known
        ) == selected.exists:
            return {}, []
        changed = conn.flags(selected.exists, changed_since=int(stored[1]))
        if len(known | changed.keys()) == selected.exists:
            return changed, []
        return changed, [f"{selected.validity}:{uid}" for uid in known - conn.uids()]

    def server_search(
        self, query: Query, now: datetime, *, zone: tzinfo = UTC, me: str | None = None
    ) -> tuple[set[str], bool]:
        """Ids of the messages the server's UID SEARCH finds for `query` in every folder, and
        whether that is exact (see `query_mapping`); the index answers `search_messages`."""
        found: set[str] = set()
        exact = True
        rows = self.journal.rows().values()
        for folder in self.folders.values():
            search = imap_search(query, now, folder, zone=zone, me=me)
            exact = exact and search.exact
            validity, uids = self._call(
                partial(_search_folder, name=folder.name, criteria=search.arguments())
            )
            paths = {f"{validity}:{uid}" for uid in uids}
            found |= {row.id for row in rows if row.folder == folder.name and row.path in paths}
        return found, exact

    def _update(self, row: IndexRow, flags: list[str]) -> None:
        letters, keywords = _letters(flags), _keywords(flags)
        if (row.flags, row.extra_labels) != (letters, keywords):
            old = self.labels(row)
            row.flags, row.extra_labels = letters, keywords
            self.journal.update(row, old, self.labels(row))

    def _add(
        self, conn: ImapConnection, folder: Folder, validity: int, batch: Batch, *, backlog: bool = False
    ) -> None:
        """Fetch and journal `batch`; `backlog` marks entries of a first indexing (not seen happen)."""
        raws = fetch_page(conn, {uid: size for uid, (_, size) in batch.items()})
        for uid, (flags, size) in batch.items():
            if raws.get(uid) is None:
                continue  # expunged since its flags were read: nothing to report
            id, path = f"{folder.name}:{validity}:{uid}", f"{validity}:{uid}"
            row = IndexRow.of_error(id, folder.name, path, _letters(flags), datetime.now(UTC).timestamp(), "")
            row.extra_labels = _keywords(flags)
            labels = self.labels(row)
            try:
                message = parse_message(raws[uid] or b"", id=id, labels=labels, size=size)
            except MessageParseError as exc:
                row.error = exc.reason
                self.journal.upsert(row)
                self.journal.append("added", id, labels, exc.reason, backlog=backlog)
                continue
            indexed = IndexRow.of_message(message, folder.name, path, row.flags)
            indexed.extra_labels = row.extra_labels
            indexed.summary["size"] = size
            self.journal.upsert(indexed)
            self.journal.append("added", id, labels, backlog=backlog)

    def _locate(self, conn: ImapConnection, row: IndexRow, readonly: bool = True) -> int:
        validity = conn.select(row.folder, readonly=readonly).validity
        row_validity, _, uid = row.path.partition(":")
        if str(validity) != row_validity:
            raise NotFoundError(
                f"message {row.id} is gone (the folder was rebuilt): call list_changes to resync"
            )
        return int(uid)

    def raw(self, row: IndexRow) -> bytes:
        """The whole message (forwarding needs it all; reading goes through `read`)."""

        def fetch(conn: ImapConnection) -> bytes:
            uid = self._locate(conn, row)
            with tempfile.SpooledTemporaryFile(FETCH_CHUNK) as spool:
                if not conn.fetch_into(uid, spool):
                    raise _gone(row)
                spool.seek(0)
                return spool.read()

        return self._call(fetch)

    def read(self, row: IndexRow) -> Message:
        found = self.read_many([row])[row.id]
        if isinstance(found, MailProviderError):
            raise found
        return found

    def read_many(self, rows: list[IndexRow]) -> dict[str, Message | MailProviderError]:
        """Several messages by id, each parsed or the error that stopped it: per folder one SELECT
        and one UID FETCH per page (`read` is this for one)."""
        folders: dict[str, list[IndexRow]] = {}
        for row in rows:
            folders.setdefault(row.folder, []).append(row)
        found: dict[str, Message | MailProviderError] = {}
        for folder, group in folders.items():
            try:
                raws = self._call(partial(fetch_rows, folder=folder, rows=group))
            except MailProviderError as exc:  # the folder cannot be read now: each of its ids says why
                raws = dict.fromkeys((row.id for row in group), exc)
            for row in group:
                found[row.id] = self._parsed(row, raws.get(row.id))
        return found

    def _parsed(self, row: IndexRow, raw: bytes | MailProviderError | None) -> Message | MailProviderError:
        if raw is None:
            return _gone(row)
        if isinstance(raw, MailProviderError):
            return raw
        try:
            return parse_message(
                raw, id=row.id, labels=self.labels(row), thread_id=row.thread_id, size=row.summary.get("size")
            )
        except MessageParseError as exc:
            return MailProviderError(f"message {row.id} cannot be read: {exc.reason}")

    def _target(self, row: IndexRow, wanted: set[str]) -> Folder:
        for role in ("TRASH", "SPAM", "INBOX"):
            if role in wanted:
                return self._role_folder(role)
        current = self.folders.get(row.folder, Folder(row.folder, None))
        if current.role not in ("INBOX", "TRASH", "SPAM") and (
            current.label is None or current.label in wanted
        ):
            return current
        return self._role_folder("ARCHIVE")

    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]:
        old = self.labels(row)
        wanted = (set(old) | add) - remove
        target = self._target(row, wanted)
        keywords = sorted(wanted - SYSTEM_LABELS - {target.label})
        for keyword in keywords:
            if not _KEYWORD.match(keyword):
                raise MailProviderError(
                    f"label {keyword!r} cannot be an IMAP keyword: use letters, digits, . _ -"
                )
        seen = "UNREAD" not in wanted or target.role in ("SENT", "DRAFT")
        desired = {"\\Seen"} if seen else set()
        desired |= {"\\Flagged"} if "STARRED" in wanted else set()
        desired |= set(keywords)
        present = {f for f, letter in (("\\Seen", "S"), ("\\Flagged", "F")) if letter in row.flags} | set(
            row.extra_labels
        )

        def apply(conn: ImapConnection) -> tuple[int, int] | None:
            uid = self._locate(conn, row, readonly=False)
            conn.store(uid, sorted(desired - present), sorted(present - desired))
            return conn.move(uid, target.name) if target.name != row.folder else None

        moved = self._call(apply)
        if target.name != row.folder and moved is None:
            self.scan()  # the server did not say where it went: it reappears as a new message
            return sorted(wanted)
        if moved is not None:
            row.folder, row.path = target.name, f"{moved[0]}:{moved[1]}"
        row.flags = _letters(
            sorted(desired) + [f for f in ("\\Draft", "\\Answered") if _LETTERS[f.lower()] in row.flags]
        )
        row.extra_labels = keywords
        with self.journal.transaction():
            self.journal.update(row, old, self.labels(row))
        return self.labels(row)

    def deliver(self, label: str, raw: bytes) -> str:
        folder = self._role_folder(label)
        flags = "(\\Draft \\Seen)" if label == "DRAFT" else "(\\Seen)"
        appended = self._call(lambda conn: conn.append(folder.name, raw, flags))
        if appended is None:
            raise ProviderUnavailableError(
                "the IMAP server does not report appended UIDs (UIDPLUS): cannot track it"
            )
        return f"{folder.name}:{appended[0]}:{appended[1]}"

    def remove(self, row: IndexRow) -> None:
        self._call(lambda conn: conn.expunge(self._locate(conn, row, readonly=False)))

    # -- label management (`manage.store_ops.LabelStore`) ------------------------------------------

    strips_on_drop = False

    def make_label(self, name: str) -> None:
        self._call(lambda conn: conn.create_folder(name))
        self.folders = {folder.name: folder for folder in self._call(lambda conn: conn.folders())}

    def rename_label(self, name: str, new_name: str) -> None:
        """RENAME the label's folder, if it has one; its messages keep their ids (UIDs survive a
        rename), so they are journalled as relabelled, not deleted and added."""
        folder = self.folders.get(name)
        if folder is None or folder.role is not None:
            return
        self._call(lambda conn: conn.rename_folder(name, new_name))
        self.folders = {folder.name: folder for folder in self._call(lambda conn: conn.folders())}
        self.journal.begin()
        try:
            for key in ("uidvalidity", "modseq"):
                if (value := self.journal.meta(f"{key}:{name}")) is not None:
                    self.journal.set_meta(f"{key}:{new_name}", value)
            for row in [row for row in self.journal.rows().values() if row.folder == name]:
                old = self.labels(row)
                row.folder = new_name
                self.journal.update(row, old, self.labels(row))
        finally:
            self.journal.commit()

    def drop_label(self, name: str) -> None:
        folder = self.folders.get(name)
        if folder is None or folder.role is not None:
            return
        self._call(lambda conn: conn.delete_folder(name))
        self.folders.pop(name, None)
