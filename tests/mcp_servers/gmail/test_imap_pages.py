"""IMAP reads by UID range against the real Dovecot: a first sync fetches a page of messages per
UID FETCH, newest first (in one scan, or step by step while the server answers), and `get_messages`
costs one SELECT and one FETCH per folder; the IMAP round trips per message are counted, not guessed."""

from __future__ import annotations

import imaplib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.imap_connection import uid_set
from mcp_servers.gmail.imap_pages import PAGE
from mcp_servers.gmail.imap_store import ImapStore
from mcp_servers.gmail.journal import Journal
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import Dovecot, drop_into_maildir, other_client
from .messages import plain_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every IMAP command sent from now on (each one a round trip), by name."""
    sent: Counter[str] = Counter()
    real = imaplib.IMAP4._command

    def counted(self: imaplib.IMAP4, name: str, *args: object) -> object:
        sent[name if name != "UID" else f"UID {args[0]}"] += 1
        return real(self, name, *args)

    monkeypatch.setattr(imaplib.IMAP4, "_command", counted)
    yield sent


def test_uid_set_turns_runs_into_ranges() -> None:
    assert uid_set([7, 3, 4, 5, 9, 10, 4]) == "3:5,7,9:10"
    assert uid_set([1000 + n for n in range(200)]) == "1000:1199"
    assert uid_set([42]) == "42"


async def test_first_sync_fetches_pages_newest_first_in_few_round_trips(
    dovecot: Dovecot, account: GmailSettings, commands: Counter[str]
) -> None:
    assert account.imap_username
    total = 2 * PAGE + 50
    drop_into_maildir(dovecot, account.imap_username, [plain_message(subject=f"n{n}") for n in range(total)])
    provider = ImapProvider(account)
    await provider.open()
    try:
        page = await provider.list_changes(None, total)
        synced = Counter(commands)
        batch = await provider.get_messages([change.message_id for change in page.changes[:100]])
        read = commands - synced
    finally:
        await provider.aclose()
    subjects = [message.subject for message in batch.messages]
    assert subjects == [f"n{n}" for n in range(total - 1, total - 101, -1)]  # newest (highest UID) first
    assert len(page.changes) == total and batch.missing == {}
    assert synced["UID FETCH"] == 1 + 3  # the flag scan of INBOX, then 3 pages (before: 9 of 50)
    assert sum(synced.values()) <= 23  # 0.05 per message, most of it per folder (before: 29)
    assert read == Counter({"EXAMINE": 1, "UID FETCH": 1})  # before: 2 per message


def test_first_index_steps_newest_first_and_new_inbox_mail_does_not_wait_behind_it(
    dovecot: Dovecot, account: GmailSettings, tmp_path: Path
) -> None:
    assert account.imap_username
    drop_into_maildir(dovecot, account.imap_username, [plain_message(subject=f"n{n}") for n in range(450)])
    store = ImapStore(ImapProvider(account)._connect, Journal(tmp_path / "index.sqlite3"))
    try:
        assert store.plan_index() == 450
        first = store.index_step(PAGE)
        assert first is not None and (first.indexed, first.total) == (200, 450)
        assert store.scan() == 0  # a tool's scan waits for the backlog instead of fetching it all
        other = other_client(account)
        other.append("INBOX", plain_message(subject="meanwhile"), "")
        other.append("Archive", plain_message(subject="archived meanwhile"), "")
        other.close()
        assert store.scan() == 1  # the inbox's arrival is indexed at once, ahead of the backlog
        while store.index_step(PAGE) is not None:
            pass
        changes = store.journal.changes(None, 1000).changes
        subjects = [store.journal.row(change.message_id).summary["subject"] for change in changes]  # type: ignore[union-attr]
    finally:
        store.close()
    newest_first = [f"n{n}" for n in range(449, -1, -1)]
    assert subjects == [*newest_first[:200], "meanwhile", *newest_first[200:], "archived meanwhile"]
    assert len({change.message_id for change in changes}) == 452 and store.progress is None
