"""The IMAP store's incremental sync against the real Dovecot, which has CONDSTORE: only messages
changed since the stored HIGHESTMODSEQ are fetched, each change is reported once, expunges are
still found, and a UIDVALIDITY change still resyncs the folder."""

from __future__ import annotations

import pytest

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.imap_connection import ImapConnection
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import other_client
from .messages import plain_message

pytestmark = pytest.mark.anyio


@pytest.fixture
def flag_fetches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, int]]:
    """Every flag FETCH the store makes: (CHANGEDSINCE modseq or None for a full scan, messages returned)."""
    calls: list[tuple[int | None, int]] = []
    real = ImapConnection.flags

    def recorded(self: ImapConnection, count: int, changed_since: int | None = None) -> dict:
        found = real(self, count, changed_since)
        if self.selected == "INBOX":
            calls.append((changed_since, len(found)))
        return found

    monkeypatch.setattr(ImapConnection, "flags", recorded)
    return calls


async def test_flag_change_is_fetched_alone_and_reported_once(
    provider: ImapProvider, account: GmailSettings, flag_fetches: list
) -> None:
    other = other_client(account)
    for n in range(4):
        other.append("INBOX", plain_message(subject=f"m{n}"), "")
    start = (await provider.list_changes(None, 10)).cursor
    flag_fetches.clear()
    other.select("INBOX", readonly=False)
    other.store(2, ["\\Flagged"], [])
    page = await provider.list_changes(start, 10)
    assert [(c.kind, c.labels) for c in page.changes] == [("labels_changed", ["INBOX", "UNREAD", "STARRED"])]
    again = await provider.list_changes(page.cursor, 10)
    assert again.changes == []
    other.close()
    changed_since, returned = flag_fetches[0]
    assert changed_since is not None and returned == 1  # one CHANGEDSINCE fetch, one message
    assert flag_fetches[1:] == []  # nothing changed for the second sync: no FETCH at all


async def test_expunge_and_append_are_found_with_condstore(
    provider: ImapProvider, account: GmailSettings, flag_fetches: list
) -> None:
    other = other_client(account)
    for n in range(3):
        other.append("INBOX", plain_message(subject=f"m{n}"), "")
    first = await provider.list_changes(None, 10)
    other.select("INBOX", readonly=False)
    other.expunge(2)
    other.append("INBOX", plain_message(subject="late"), "")
    other.close()
    page = await provider.list_changes(first.cursor, 10)
    gone = first.changes[1].message_id
    assert [(c.kind, c.message_id == gone) for c in page.changes] == [("deleted", True), ("added", False)]
    assert (await provider.get_message(page.changes[1].message_id)).subject == "late"
    assert all(since is not None for since, _ in flag_fetches[1:])


# Gmail searches whose IMAP SEARCH form is exact (flags, folders, keywords, sizes, and OR/NOT of
# them), and those whose IMAP form is a superset (text, dates, attachments).
EXACT = ["is:unread", "is:read", "is:starred", "label:Receipts", "label:Travel", "label:INBOX", "label:SENT",
         "label:INBOX is:unread", "label:UNREAD", "label:Nowhere", "", "is:unread OR is:starred", "-is:starred",
         "-label:Travel", "{label:Travel label:Receipts}", "(is:unread label:Travel) OR is:starred",
         "-(is:read is:starred)", "larger:400", "smaller:400", "larger:300 -is:unread", "in:anywhere",
         "label:SENT OR label:Receipts", "-{label:INBOX label:SENT}"]  # fmt: skip
SUPERSET = ["has:attachment", "newer_than:30d", "pizza", "from:rené", "from:bob", "subject:lunch", "to:bob",
            "from:carol OR is:starred", "-from:carol", "subject:(lunch invoice)", "after:2020/01/01",
            "filename:pdf", "from:bob subject:invoice", "before:2026/01/01 is:read"]  # fmt: skip


async def _mailbox_for_search(account: GmailSettings) -> None:
    from datetime import UTC, datetime, timedelta

    from .messages import message_with_attachment

    other = other_client(account)
    other.imap.create("Receipts")
    recent = datetime.now(UTC) - timedelta(days=2)
    other.append("INBOX", message_with_attachment("q1.pdf", b"%PDF-1.4 numbers"), "")
    other.append("INBOX", plain_message(subject="Lunch", body="noon pizza\n", sender="Carol <carol@example.org>",
                                        date=recent), "(\\Seen \\Flagged)")  # fmt: skip
    other.append("Receipts", plain_message(subject="Old invoice", body="paid\n"), "(\\Seen)")
    other.append(
        "INBOX", plain_message(subject="Flight", sender="René <rene@air.example>", date=recent), "(Travel)"
    )
    other.append("Sent", plain_message(subject="Re: Lunch", sender="ada@example.org", to="bob@example.org",
                                       body="> noon pizza\nyes\n"), "(\\Seen)")  # fmt: skip
    other.close()


async def test_imap_server_search_agrees_with_the_index(
    provider: ImapProvider, account: GmailSettings
) -> None:
    from mcp_servers.gmail.query import parse_query

    await _mailbox_for_search(account)
    await provider.scan()
    sizes: dict[str, int] = {}
    for text in EXACT + SUPERSET:
        query = parse_query(text)
        indexed = {hit.id for hit in await provider.search(query, 100)}
        found, exact = await provider.server_search(query)
        assert exact == (text in EXACT), text
        if exact:
            assert found == indexed, text
            sizes[text] = len(found)
        else:
            assert found >= indexed, text
    assert sizes["label:INBOX"] == 3 and sizes["is:read"] == 3 and sizes[""] == 5  # the data mean something
    assert sizes["larger:400"] + sizes["smaller:400"] == 5 and 0 < sizes["larger:400"] < 5
    found, _ = await provider.server_search(parse_query("has:attachment"))
    assert len(found) == 5 and len(await provider.search(parse_query("has:attachment"), 100)) == 1
