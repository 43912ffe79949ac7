"""The local Maildir provider: the embedded default, used by the demo and by offline tests.

It keeps the mailbox on disk as a Maildir++ tree (any mail client or `fetchmail`/`mbsync` can
deliver into it), an index and change journal in SQLite under the state directory, and watches
the tree with watchfiles so that a file landing in `new/` becomes an `added` change within
milliseconds. Sending goes through SMTP when configured; without SMTP the message is only filed
under Sent, and `SentRef.delivered` says so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
from anyio.abc import TaskStatus
from watchfiles import Change as FileChange
from watchfiles import awatch

from .account_status import AccountHealth
from .indexed import IndexedProvider, MailStore
from .journal import Journal
from .maildir_store import MaildirStore
from .provider import Changed
from .smtp import SmtpSender

__all__ = ["MaildirProvider"]


def _in_mail_dirs(change: FileChange, path: str) -> bool:
    return "/new/" in path or "/cur/" in path


class MaildirProvider(IndexedProvider):
    """A mailbox stored as a Maildir++ tree on the local disk."""

    def __init__(self, root: Path, state_dir: Path, sender: SmtpSender | None = None) -> None:
        super().__init__(sender)
        self.root = root
        self._account_health = AccountHealth("maildir", str(root))
        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
        self.index_path = state_dir / f"maildir-{digest}.sqlite3"

    def _open_store(self) -> MailStore:
        return MaildirStore(self.root, Journal(self.index_path))

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
