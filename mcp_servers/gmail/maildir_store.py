"""A Maildir++ tree as a Gmail-like mailbox: folders and flags mapped to labels, synced to a journal.

The root folder is INBOX; `.Sent`, `.Drafts`, `.Trash`, `.Spam` and `.Archive` are the system
folders (archived mail is mail without INBOX); any other `.Name` folder is the label `Name`. A
missing `S` flag is UNREAD and `F` is STARRED; other labels live in the index only. `scan()`
compares the files on disk with the index and appends what changed to the journal, parsing each
new message once (and lists nothing when no folder's `new/` or `cur/` changed since it last did:
`_listing_stamp`); a message that cannot be parsed is journalled with its error and skipped by
search, and the scan goes on (one changed within the last `WRITING_SECONDS` is looked at again
first: a file written straight into `new/`, not through `tmp/`, can be listed before its bytes are
in, and was journalled as "empty" for good). Ids are the Maildir keys, which survive moves between folders.
Everything here blocks: the provider calls it from a worker thread.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from .first_order import sent_to_front
from .indexed import SYSTEM_LABELS
from .journal import IndexRow, Journal, Location
from .models import IndexProgress, Message
from .parsing import MessageParseError, parse_file
from .provider import MailProviderError

__all__ = ["FOLDER_LABELS", "MaildirStore", "ParsedFile", "StoredFile", "labels_of"]

FOLDER_LABELS = {
    "": "INBOX",
    "Sent": "SENT",
    "Drafts": "DRAFT",
    "Trash": "TRASH",
    "Spam": "SPAM",
    "Archive": "",
}
LABEL_FOLDERS = {label: folder for folder, label in FOLDER_LABELS.items() if label}
_COMMIT_EVERY = 200
WRITING_SECONDS = 2.0  # an unreadable file changed this recently may still be being written
_sequence = count()


@dataclass(frozen=True)
class StoredFile:
    """One message file: its key (the stable id), folder, path and Maildir flags."""

    key: str
    folder: str
    path: str
    flags: str


@dataclass(frozen=True)
class ParsedFile:
    """A message file read and parsed (or the reason it could not be), ready to be journalled."""

    stored: StoredFile
    labels: list[str]
    message: Message | MessageParseError


def _parse(stored: StoredFile) -> ParsedFile:
    labels = labels_of(stored.folder, stored.flags, [])
    try:
        message: Message | MessageParseError = parse_file(Path(stored.path), id=stored.key, labels=labels)
    except MessageParseError as exc:
        message = exc
    return ParsedFile(stored, labels, message)


def _received(stored: StoredFile) -> float:
    try:
        return os.stat(stored.path).st_mtime
    except OSError:  # gone since it was listed
        return 0.0


def _split_name(name: str) -> tuple[str, str]:
    key, _, info = name.partition(":")
    return key, info[2:] if info.startswith("2,") else ""


def labels_of(folder: str, flags: str, extra: list[str]) -> list[str]:
    """The Gmail-style labels of a message stored in `folder` with `flags`."""
    folder_label = FOLDER_LABELS.get(folder, folder)
    labels = [folder_label] if folder_label else []
    if "S" not in flags and folder not in ("Sent", "Drafts"):
        labels.append("UNREAD")
    if "F" in flags:
        labels.append("STARRED")
    return labels + [label for label in extra if label not in labels]


def _target_folder(row: IndexRow, labels: set[str]) -> str:
    for label in ("TRASH", "SPAM", "INBOX"):
        if label in labels:
            return LABEL_FOLDERS[label]
    current = FOLDER_LABELS.get(row.folder, row.folder)
    if row.folder not in ("", "Trash", "Spam") and (not current or current in labels):
        return row.folder
    return "Archive"


class MaildirStore:
    """Reads, writes and indexes one Maildir++ tree (a `MailStore`)."""

    delivers_sent = False

    unlocked_reads = True  # see `indexed.UnlockedReader`

    def __init__(self, root: Path, journal: Journal) -> None:
        if root.exists() and not root.is_dir():
            raise MailProviderError(f"{root} is not a directory: --maildir needs a Maildir folder")
        self.root = root
        self.journal = journal
        self._backlog: list[StoredFile] = []
        self._planned: set[str] = (
            set()
        )  # keys on disk when the first indexing was planned, and arrivals since
        self.progress: IndexProgress | None = None
        self._unchanged_since: tuple | None = None  # the listing stamp when a scan last caught up
        self._clock_ns = 0  # the file system's time when last read (it only moves on)
        for folder in ("", "Sent", "Drafts", "Trash"):
            self.ensure_folder(folder)

    def close(self) -> None:
        self.journal.close()

    def folder_path(self, folder: str) -> Path:
        return self.root / f".{folder}" if folder else self.root

    def ensure_folder(self, folder: str) -> Path:
        path = self.folder_path(folder)
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def folders(self) -> list[str]:
        found = [""]
        for entry in os.scandir(self.root):
            if (
                entry.name.startswith(".")
                and entry.is_dir()
                and os.path.isdir(os.path.join(entry.path, "cur"))
            ):
                found.append(entry.name[1:])
        return sorted(found)

    def folder_labels(self) -> list[str]:
        return [label for label in (FOLDER_LABELS.get(f, f) for f in self.folders()) if label]

    def labels(self, row: IndexRow) -> list[str]:
        return labels_of(row.folder, row.flags, row.extra_labels)

    def files(self) -> dict[str, StoredFile]:
        """Every message file on disk, by key; a key seen twice keeps the first (stable) copy."""
        files: dict[str, StoredFile] = {}
        # Sent first: a first sync then journals the user's own mail before the inbox, so a client
        # learns whom the user writes to before it judges what they receive.
        for folder in sorted(self.folders(), key=lambda name: name != "Sent"):
            for sub in ("new", "cur"):
                with os.scandir(self.folder_path(folder) / sub) as entries:
                    for entry in entries:
                        if entry.name.startswith(".") or not entry.is_file():
                            continue
                        key, flags = _split_name(entry.name)
                        files.setdefault(key, StoredFile(key, folder, entry.path, flags))
        return files

    def plan_index(self) -> int:
        """Begin the first indexing, to be done a step at a time (`index_step`) while the server
        answers: moves and deletions are journalled now; new files wait, the newest Sent mail first
        (`first_order`: a reader learns whom the user writes to before it judges what they receive),
        then the rest newest first (by mtime, the Maildir received date), so that a client reading
        the change feed meets recent mail first. Until the backlog is done `scan()` only journals mail delivered
        since (`_index_arrivals`). Returns how many files wait."""
        on_disk, indexed = self.files(), self.journal.locations()
        self._planned = set(on_disk)
        self._apply_moves(on_disk, indexed)
        waiting = [stored for key, stored in on_disk.items() if key not in indexed]
        newest_first = sorted(waiting, key=_received, reverse=True)
        self._backlog = sent_to_front(newest_first, lambda stored: stored.folder == "Sent")
        self.progress = IndexProgress(indexed=0, total=len(waiting))
        return len(waiting)

    def index_step(self, size: int) -> IndexProgress | None:
        """Index the next `size` files of the backlog in one transaction; None once it is empty
        (after a full `scan()` that records what changed meanwhile)."""
        return self.write_step(self.fetch_step(size, lambda ids: ids))

    def fetch_step(self, size: int, unindexed: object = None) -> list[ParsedFile]:
        """Parse the next `size` files of the backlog: the CPU-heavy half of a step, run outside
        the index lock (and below the tools' priority: `IndexedProvider.index`); files only."""
        return [_parse(stored) for stored in self._backlog[:size]]

    def write_step(self, step: list[ParsedFile]) -> IndexProgress | None:
        """Journal a fetched step in one transaction (under the index lock); None once the backlog
        is empty (after a full `scan()`). A step that is no longer the backlog's head is dropped."""
        if not self._backlog:
            self.progress, self._planned = None, set()
            self.scan()
            return None
        if [parsed.stored for parsed in step] != self._backlog[: len(step)]:
            return self.progress  # planned again meanwhile: the next fetch reads the new head
        with self.journal.transaction():
            for parsed in step:
                if os.path.exists(parsed.stored.path):  # else moved since the plan: the final scan finds it
                    self._journal(parsed, backlog=True)
        self._backlog = self._backlog[len(step) :]  # only once stored: a failed step is tried again
        assert self.progress is not None
        self.progress = IndexProgress(indexed=self.progress.indexed + len(step), total=self.progress.total)
        return self.progress

    def _apply_moves(self, on_disk: dict[str, StoredFile], indexed: Mapping[str, Location]) -> None:
        """Journal the indexed messages that moved, changed flags or vanished."""
        with self.journal.transaction():
            for key, stored in on_disk.items():
                known = indexed.get(key)
                if known is not None and tuple(known) != (stored.folder, stored.flags, stored.path):
                    row = self.journal.row(key)
                    assert row is not None
                    self._update(row, stored)
            for key in indexed.keys() - on_disk.keys():
                self.journal.delete(key)
                self.journal.append("deleted", key, [])

    def scan(self) -> int:
        """Bring the index and journal up to date with the disk; returns how many changes were added.
        While the first indexing has a backlog (it owns the journal's order then), only mail delivered
        since is journalled."""
        if self._backlog:
            return self._index_arrivals()
        stamp = self._listing_stamp()
        if stamp is not None and stamp == self._unchanged_since:
            return 0  # no file added, moved, reflagged or removed since the last full scan
        before = self.journal.last_seq()
        new = self._arrivals_only(stamp)
        if new is None:  # a full scan: every folder listed and compared with the index
            on_disk, indexed = self.files(), self.journal.locations()
            self._apply_moves(on_disk, indexed)
            new = [stored for key, stored in on_disk.items() if key not in indexed]
        waiting = 0
        for start in range(0, len(new), _COMMIT_EVERY):
            with self.journal.transaction():
                for stored in new[start : start + _COMMIT_EVERY]:
                    waiting += not self._add(stored)
        self._unchanged_since = None if waiting else stamp  # a file still being written: look again
        return self.journal.last_seq() - before

    def _arrivals_only(self, stamp: tuple | None) -> list[StoredFile] | None:
        """The files delivered since the last scan when that is all that changed, else None (a full scan is
        needed). New mail lands in a folder's `new/`: when, against the last scan's stamp, only `new/`
        directories changed and every file indexed there is still there, the new files are what those
        directories hold beyond the index, and a look lists only them, not the 100,000 files of a big
        mailbox's `cur/` (a full scan of that many took ~0.6 s a look)."""
        last = self._unchanged_since
        if stamp is None or last is None or stamp[0] != last[0]:
            return None
        folders, times, before = stamp[0], stamp[1], last[1]
        if any(times[i + 1] != before[i + 1] for i in range(0, len(times), 2)):
            return None  # a `cur/` changed: a move, a flag or a removal
        changed = [folder for i, folder in enumerate(folders) if times[2 * i] != before[2 * i]]
        listed: dict[str, StoredFile] = {}
        for folder in changed:
            directory = self.folder_path(folder) / "new"
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file():
                        key, flags = _split_name(entry.name)
                        if key in listed:
                            return None  # two copies: the full scan's order says which counts
                        listed[key] = StoredFile(key, folder, entry.path, flags)
            if not self.journal.ids_under(str(directory)) <= listed.keys():
                return None  # a file left `new/` (deleted, or moved elsewhere)
        known = self.journal.locations_of(list(listed))
        if any(known[key] != (s.folder, s.flags, s.path) for key, s in listed.items() if key in known):
            return None  # a copy of an indexed message, or one renamed in place
        return [stored for key, stored in listed.items() if key not in known]

    def _listing_stamp(self) -> tuple | None:
        """The folders and the modification times of their `new/` and `cur/` directories, taken
        before a full scan lists them. Any delivery, move, flag change (a rename) or removal sets
        one to the file system's current time, so an equal stamp means the listing is as the last
        full scan saw it (a tool call on a mailbox of 100,000 files then lists nothing).

        A directory changed within the file system's current timestamp tick could change again
        unseen, so then there is no stamp (listed again next time). That time is the kernel's: the
        time of a file created (and removed at once) in the root's `tmp/`, which no clock of the
        process's can move (libfaketime, which the UI tests run Pepper under, moves a plain
        "touch"). That time is read again only when a folder's is not older than the last reading
        (so a Maildir that did not change costs no write). Where no file can be created there (a
        read-only Maildir) there is no stamp either: listed on every look."""
        try:
            folders = self.folders()
            times = tuple(
                os.stat(self.folder_path(f) / sub).st_mtime_ns for f in folders for sub in ("new", "cur")
            )
            if max(times) >= self._clock_ns:
                self._clock_ns = self._file_system_time()
        except OSError:
            return None
        if max(times) >= self._clock_ns:
            return None
        return (tuple(folders), times)

    def _file_system_time(self) -> int:
        """The kernel's time as the file system stamps files, in ns (see `_listing_stamp`)."""
        fd, name = tempfile.mkstemp(prefix=".pepper-clock.", dir=self.root / "tmp")
        try:
            return os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
            os.unlink(name)

    def _index_arrivals(self) -> int:
        """Journal, ahead of the backlog, the files delivered into a `new/` since the first indexing
        was planned (where an MDA or a fetcher delivers): new mail must not wait for years of old
        mail. Lists only the `new/` folders, so it is cheap enough to run on every look."""
        arrivals = []
        for folder in self.folders():
            with os.scandir(self.folder_path(folder) / "new") as entries:
                for entry in entries:
                    key, flags = _split_name(entry.name)
                    if key not in self._planned and not entry.name.startswith(".") and entry.is_file():
                        arrivals.append(StoredFile(key, folder, entry.path, flags))
        if not arrivals:
            return 0
        with self.journal.transaction():
            added = [stored for stored in arrivals if self._add(stored)]
        self._planned.update(stored.key for stored in added)  # only once stored
        return len(added)

    def _add(self, stored: StoredFile) -> bool:
        """Journal a file found since the last look; False (not yet) when it cannot be parsed and
        changed within WRITING_SECONDS of the file system's clock: it may still be being written
        (a file written straight into `new/` is listed before its bytes are in), and is read again
        at the next look. Once older, an unreadable file is journalled with its error."""
        parsed = _parse(stored)
        if isinstance(parsed.message, MessageParseError) and self._maybe_being_written(stored):
            return False
        self._journal(parsed, backlog=False)
        return True

    def _maybe_being_written(self, stored: StoredFile) -> bool:
        try:
            changed = os.stat(stored.path).st_mtime_ns
            return self._file_system_time() - changed < WRITING_SECONDS * 1e9
        except OSError:  # gone since it was listed, or a read-only Maildir: nothing to wait for
            return False

    def _journal(self, parsed: ParsedFile, *, backlog: bool) -> None:
        stored, labels = parsed.stored, parsed.labels
        if isinstance(parsed.message, MessageParseError):
            reason = parsed.message.reason
            mtime = os.path.getmtime(stored.path)
            self.journal.upsert(
                IndexRow.of_error(stored.key, stored.folder, stored.path, stored.flags, mtime, reason)
            )
            self.journal.append("added", stored.key, labels, reason, backlog=backlog)
            return
        self.journal.upsert(IndexRow.of_message(parsed.message, stored.folder, stored.path, stored.flags))
        self.journal.append("added", stored.key, labels, backlog=backlog)

    def _update(self, row: IndexRow, stored: StoredFile) -> None:
        old_labels = self.labels(row)
        row.folder, row.flags, row.path = stored.folder, stored.flags, stored.path
        self.journal.update(row, old_labels, self.labels(row))

    def read(self, row: IndexRow) -> Message:
        if not Path(row.path).exists() and (moved := self.files().get(row.id)) is not None:
            row.folder, row.path, row.flags = moved.folder, moved.path, moved.flags  # by another client
        try:
            return parse_file(Path(row.path), id=row.id, labels=self.labels(row), thread_id=row.thread_id)
        except MessageParseError as exc:
            raise MailProviderError(f"message {row.id} cannot be read: {exc.reason}") from exc

    def raw(self, row: IndexRow) -> bytes:
        return Path(row.path).read_bytes()

    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]:
        """Move and reflag a message (keeping its key, so its id) and set its extra labels; journals
        one `labels_changed` if its labels differ. Returns the new labels."""
        old = self.labels(row)
        wanted = (set(old) | add) - remove
        folder = _target_folder(row, wanted)
        flags = set(row.flags) - {"S", "F"}
        flags |= set() if "UNREAD" in wanted or folder in ("Sent", "Drafts") else {"S"}
        flags |= {"F"} if "STARRED" in wanted else set()
        extra = sorted(wanted - SYSTEM_LABELS - {FOLDER_LABELS.get(folder, folder)})
        flag_text = "".join(sorted(flags))
        source, target = row.path, str(self.ensure_folder(folder) / "cur" / f"{row.id}:2,{flag_text}")
        if target != source:
            os.rename(source, target)
        row.folder, row.flags, row.path, row.extra_labels = folder, flag_text, target, extra
        try:
            with self.journal.transaction():
                self.journal.update(row, old, self.labels(row))
        except sqlite3.Error:  # the index cannot record it (a full disk): the change is not made
            if target != source:
                os.rename(target, source)
            raise
        return self.labels(row)

    def deliver(self, label: str, raw: bytes) -> str:
        """File a message under a system label the Maildir way (tmp, then rename); returns its id."""
        folder = LABEL_FOLDERS.get(label, label)
        flags = {"DRAFT": "DS", "SENT": "S"}.get(label)
        path = self.ensure_folder(folder)
        key = f"{time.time_ns()}.P{os.getpid()}Q{next(_sequence)}.{socket.gethostname().replace('/', '_')}"
        tmp = path / "tmp" / key
        with open(tmp, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path / "cur" / f"{key}:2,{flags}" if flags else path / "new" / key)
        return key

    def remove(self, row: IndexRow) -> None:
        os.unlink(row.path)

    # -- label management (`manage.store_ops.LabelStore`) ------------------------------------------

    strips_on_drop = False

    def make_label(self, name: str) -> None:
        if "/" in name or name.startswith(".") or name in FOLDER_LABELS:
            raise MailProviderError(f"{name!r} cannot be a Maildir folder: leave out '/' and a leading '.'")
        self.ensure_folder(name)

    def rename_label(self, name: str, new_name: str) -> None:
        """Rename the label's folder, if it has one (its messages keep their keys, so their ids)."""
        if "/" in new_name or new_name.startswith("."):
            raise MailProviderError(
                f"{new_name!r} cannot be a Maildir folder: leave out '/' and a leading '.'"
            )
        source = self.folder_path(name)
        if name in self.folders() and name not in FOLDER_LABELS:
            os.rename(source, self.folder_path(new_name))

    def drop_label(self, name: str) -> None:
        """Remove the label's folder once its messages have left it (only Maildir's tmp/ may remain)."""
        path = self.folder_path(name)
        if name in FOLDER_LABELS or not path.is_dir():
            return
        if any(any(os.scandir(path / sub)) for sub in ("cur", "new")):
            raise MailProviderError(f"folder {path} still holds messages: delete_label left it in place")
        shutil.rmtree(path)
