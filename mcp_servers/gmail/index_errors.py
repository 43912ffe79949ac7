"""The gmail server's own storage errors: the index and change journal it keeps in one SQLite file
under its state directory (`--state-dir`), apart from the mailbox itself.

`IndexStorageError` is a `MailProviderError`, so a tool call gets a `ToolError` in its words and a
failed start one line and exit status 2; its message says what happened to the file (disk full,
read-only, locked, corrupt: `mcp_servers.common.sqlite_errors` decides and words it) and what to do.
`translated(path)` is the one place SQLite's errors become it: `IndexedProvider` runs every piece of
store work under it, and `check_writable` answers before the file is opened. The mailbox (Maildir,
IMAP, the Gmail API) is not this file: while the index cannot be written, messages, drafts and
sending still work, search and the change feed answer from what the index holds and say so, and the
provider tries again until it can write (`IndexedProvider.keep_index`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcp_servers.common.sqlite_errors import StorageProblem, translating, unwritable

from .provider import MailProviderError

__all__ = ["RELOCATE", "IndexStorageError", "check_writable", "translated"]

RELOCATE = "--state-dir or PEPPER_GMAIL_STATE_DIR"


class IndexStorageError(MailProviderError):
    """The index file cannot do what was asked; nothing of the failed change was stored in it."""

    def __init__(self, problem: StorageProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """SQLite errors on the index `path` raised inside become an `IndexStorageError`; others pass."""
    with translating(path, RELOCATE, IndexStorageError):
        yield


def check_writable(path: Path) -> None:
    """Raise `IndexStorageError` when the index at `path` could not be written (before opening it)."""
    reason = unwritable(path, RELOCATE)
    if reason is not None:
        raise IndexStorageError(StorageProblem.READ_ONLY, reason)
