"""A Maildir++ tree as a Gmail-like mailbox: folders and flags mapped to labels, synced to a journal.

The root folder is INBOX; `.Sent`, `.Drafts`, `.Trash`, `.Spam` and `.Archive` are the system
folders (archived mail is mail without INBOX); any other `.Name` folder is the label `Name`. A
missing `S` flag is UNREAD and `F` is STARRED; other labels live in the index only. `scan()`
compares the files on disk with the index and appends what changed to the journal, parsing each
new message once; a message that cannot be parsed is journalled with its error and skipped by
search, and the scan goes on. Everything here blocks: the provider calls it from a worker thread.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from .journal import IndexRow, Journal
from .parsing import MessageParseError, parse_file
from .provider import NotFoundError

__all__ = ["FOLDER_LABELS", "MaildirStore", "StoredFile"]

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
_sequence = count()


@dataclass(frozen=True)
class StoredFile:
    """One message file: its key (the stable id), folder, path and Maildir flags."""

    key: str
    folder: str
    path: str
    flags: str


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


class MaildirStore:
    """Reads, writes and indexes one Maildir++ tree."""

    def __init__(self, root: Path, journal: Journal) -> None:
        self.root = root
        self.journal = journal
        for folder in ("", "Sent", "Drafts", "Trash"):
            self.ensure_folder(folder)

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

    def files(self) -> dict[str, StoredFile]:
        """Every message file on disk, by key; a key seen twice keeps the first (stable) copy."""
        files: dict[str, StoredFile] = {}
        for folder in self.folders():
            for sub in ("new", "cur"):
                directory = self.folder_path(folder) / sub
                with os.scandir(directory) as entries:
                    for entry in entries:
                        if entry.name.startswith(".") or not entry.is_file():
                            continue
                        key, flags = _split_name(entry.name)
                        files.setdefault(key, StoredFile(key, folder, entry.path, flags))
        return files

    def scan(self) -> int:
        """Bring the index and journal up to date with the disk; returns how many changes were added."""
        before = self.journal.last_seq()
        on_disk, indexed = self.files(), self.journal.rows()
        self.journal.begin()
        try:
            pending = 0
            for key, stored in on_disk.items():
                row = indexed.get(key)
                if row is None:
                    self._add(stored)
                    pending += 1
                elif (row.folder, row.flags, row.path) != (stored.folder, stored.flags, stored.path):
                    self._update(row, stored)
                if pending >= _COMMIT_EVERY:
                    self.journal.commit()
                    self.journal.begin()
                    pending = 0
            for key in indexed.keys() - on_disk.keys():
                self.journal.delete(key)
                self.journal.append("deleted", key, [])
        finally:
            self.journal.commit()
        return self.journal.last_seq() - before

    def _add(self, stored: StoredFile) -> None:
        labels = labels_of(stored.folder, stored.flags, [])
        try:
            message = parse_file(Path(stored.path), id=stored.key, labels=labels)
        except MessageParseError as exc:
            row = IndexRow(stored.key, stored.folder, stored.path, stored.flags, [], f"id:{stored.key}",
                           os.path.getmtime(stored.path), {}, "", False, exc.reason)  # fmt: skip
            self.journal.upsert(row)
            self.journal.append("added", stored.key, labels, exc.reason)
            return
        summary = message.model_dump(
            mode="json", include={"id", "thread_id", "from_", "subject", "date", "snippet"}
        )
        summary["has_attachment"] = bool(message.attachments)
        recipients = " ".join(a.formatted() for a in message.to + message.cc)
        sender = message.from_.formatted() if message.from_ else ""
        search_text = "\n".join([sender, recipients, message.subject, message.text]).lower()
        row = IndexRow(
            stored.key, stored.folder, stored.path, stored.flags, [], message.thread_id,
            message.date.timestamp(), summary, search_text, bool(message.attachments), None,
        )  # fmt: skip
        self.journal.upsert(row)
        self.journal.append("added", stored.key, labels)

    def _update(self, row: IndexRow, stored: StoredFile) -> None:
        old_labels = labels_of(row.folder, row.flags, row.extra_labels)
        row.folder, row.flags, row.path = stored.folder, stored.flags, stored.path
        self.journal.upsert(row)
        new_labels = labels_of(row.folder, row.flags, row.extra_labels)
        if new_labels != old_labels:
            self.journal.append("labels_changed", row.id, new_labels)

    def require(self, id: str) -> IndexRow:
        row = self.journal.row(id)
        if row is None:
            raise NotFoundError(f"no message with id {id!r}: take ids from search_messages or list_changes")
        return row

    def relabel(self, row: IndexRow, folder: str, flags: str, extra: list[str]) -> list[str]:
        """Move a message to `folder` with `flags` (keeping its key, so its id) and set its extra
        labels; journals one `labels_changed` if its labels differ. Returns the new labels."""
        old = labels_of(row.folder, row.flags, row.extra_labels)
        flags = "".join(sorted(set(flags)))
        target = str(self.ensure_folder(folder) / "cur" / f"{row.id}:2,{flags}")
        if target != row.path:
            os.rename(row.path, target)
        row.folder, row.flags, row.path, row.extra_labels = folder, flags, target, extra
        new = labels_of(folder, flags, extra)
        self.journal.begin()
        self.journal.upsert(row)
        if new != old:
            self.journal.append("labels_changed", row.id, new)
        self.journal.commit()
        return new

    def deliver(self, folder: str, raw: bytes, flags: str = "") -> str:
        """Write a message into `folder` the Maildir way (tmp, then rename); returns its key."""
        path = self.ensure_folder(folder)
        key = f"{time.time_ns()}.P{os.getpid()}Q{next(_sequence)}.{socket.gethostname().replace('/', '_')}"
        tmp = path / "tmp" / key
        with open(tmp, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        final = path / "cur" / f"{key}:2,{flags}" if flags else path / "new" / key
        os.rename(tmp, final)
        return key

    def remove(self, row: IndexRow) -> None:
        os.unlink(row.path)
