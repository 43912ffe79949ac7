"""The IMAP store's first indexing, done a page at a time while the server answers.

`plan_index` reads every folder's flags and journals what vanished or changed; the new messages
wait in a backlog, the newest Sent mail first (`first_order`), then INBOX, the rest of Sent, the
other folders, each newest first (highest UID first), with the UIDNEXT each folder had. `index_step` fetches the next page of the backlog (one
UID FETCH per folder page) and journals it. Meanwhile a sync (`index_arrivals`) indexes only the
mail that reached the inbox since the plan, at once, so that new mail is not held behind old; when
the backlog is empty, a full scan records whatever else changed. Mixed into `ImapStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import groupby
from typing import TypeVar

from .first_order import lead_with_sent
from .imap_connection import Folder, ImapConnection
from .journal import Journal
from .models import IndexProgress

__all__ = ["Batch", "FirstIndex", "Waiting"]

T = TypeVar("T")
Batch = dict[int, tuple[list[str], int]]  # UID → (flags, size in bytes)
Waiting = tuple[str, int, int, list[str], int]  # (folder, UIDVALIDITY, UID, flags, size) to fetch


class FirstIndex:
    """`plan_index`, `index_step` and `index_arrivals` over the store's own sync primitives."""

    journal: Journal
    folders: dict[str, Folder]
    planned: dict[str, tuple[int, int]]
    progress: IndexProgress | None
    _backlog: list[Waiting]

    def _call(self, operation: Callable[[ImapConnection], T]) -> T: ...  # pragma: no cover
    def _ordered_folders(self) -> list[Folder]: ...  # pragma: no cover
    def _scan_folder(self, conn: ImapConnection, folder: Folder, defer: bool = False) -> list[Waiting]: ...  # pragma: no cover  # fmt: skip
    def _add(self, conn: ImapConnection, folder: Folder, validity: int, batch: Batch, *, backlog: bool = False) -> None: ...  # pragma: no cover  # fmt: skip
    def scan(self) -> int: ...  # pragma: no cover

    def plan_index(self) -> int:
        """Begin the first indexing (see the module docstring); returns how many messages wait."""
        self.planned = {}
        waiting: dict[str | None, list[Waiting]] = {"SENT": [], "INBOX": [], None: []}
        for folder in self._ordered_folders():
            found = self._call(partial(self._scan_folder, folder=folder, defer=True))
            waiting[folder.role if folder.role in ("SENT", "INBOX") else None] += found
        self._backlog = lead_with_sent(waiting["SENT"], waiting["INBOX"], waiting[None])
        self.progress = IndexProgress(indexed=0, total=len(self._backlog))
        return len(self._backlog)

    def index_step(self, size: int) -> IndexProgress | None:
        """Fetch and journal the next `size` waiting messages; None once none wait (after a full
        `scan()` that records what changed meanwhile)."""
        if not self._backlog:
            self.progress = None
            self.scan()
            return None
        step, self._backlog = self._backlog[:size], self._backlog[size:]
        for (name, validity), group in groupby(step, key=lambda waiting: waiting[:2]):
            batch = {uid: (flags, octets) for _, _, uid, flags, octets in group}
            self._call(partial(self._add_waiting, folder=self.folders.get(name, Folder(name, None)),
                               validity=validity, batch=batch, backlog=True))  # fmt: skip
        assert self.progress is not None
        self.progress = IndexProgress(indexed=self.progress.indexed + len(step), total=self.progress.total)
        return self.progress

    def index_arrivals(self) -> int:
        """Index the mail that reached the inbox since the plan; returns how many journal entries
        that added."""
        inbox = next((folder for folder in self.folders.values() if folder.role == "INBOX"), None)
        if inbox is None or inbox.name not in self.planned:
            return 0
        before = self.journal.last_seq()
        self._call(partial(self._add_arrivals, folder=inbox))
        return self.journal.last_seq() - before

    def _add_arrivals(self, conn: ImapConnection, folder: Folder) -> None:
        validity, since = self.planned[folder.name]
        selected = conn.select(folder.name)
        if selected.validity != validity or selected.uidnext is None or selected.uidnext <= since:
            return  # nothing new (or the folder was rebuilt: the final scan resyncs it)
        # `N:*` names the last message even when it is below N: keep only the UIDs from N on.
        found = {
            uid: seen for uid, seen in conn.flags(selected.exists, uids=f"{since}:*").items() if uid >= since
        }
        self.planned[folder.name] = (validity, selected.uidnext)
        self._add_waiting(conn, folder, validity, found)

    def _add_waiting(
        self, conn: ImapConnection, folder: Folder, validity: int, batch: Batch, backlog: bool = False
    ) -> None:
        """Journal `batch`, newest first; `backlog` marks a first indexing's entries (the live
        readers of `list_changes(live=True)` skip them), arrivals are live."""
        if not batch or conn.select(folder.name).validity != validity:
            return  # the folder was rebuilt since the plan: the final scan resyncs it
        with self.journal.transaction():
            self._add(conn, folder, validity, dict(sorted(batch.items(), reverse=True)), backlog=backlog)
