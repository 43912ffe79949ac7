"""The blocking IMAP connection against the real Dovecot: CONDSTORE fetches, non-ASCII folder
names in modified UTF-7, and large messages read in chunks."""

from __future__ import annotations

from mcp_servers.gmail.imap_connection import quote
from mcp_servers.gmail.settings import GmailSettings
from mcp_servers.gmail.utf7 import encode_mailbox

from .dovecot import other_client
from .messages import plain_message


def test_connection_changed_since_returns_only_changed_messages(account: GmailSettings) -> None:
    other = other_client(account)
    assert other.condstore
    for n in range(5):
        other.append("INBOX", plain_message(subject=f"m{n}"), "")
    before = other.select("INBOX", readonly=False)
    assert before.modseq is not None and before.uidnext == 6
    other.store(3, ["\\Seen"], [])
    changed = other.flags(before.exists, changed_since=before.modseq)
    assert list(changed) == [3] and "\\Seen" in changed[3][0]
    assert len(other.flags(before.exists)) == 5
    other.close()


def test_connection_lists_and_selects_non_ascii_folders_by_their_real_names(account: GmailSettings) -> None:
    other = other_client(account)
    assert other.imap.create(quote(encode_mailbox("Réunions/日本")))[0] == "OK"
    assert other.imap.create(quote(encode_mailbox("Tom & Jerry")))[0] == "OK"
    names = {folder.name for folder in other.folders()}
    assert {"Réunions/日本", "Tom & Jerry"} <= names
    other.append("Réunions/日本", plain_message(subject="ordre du jour"), "")
    assert other.select("Réunions/日本").exists == 1
    assert other.select("Tom & Jerry").exists == 0
    other.close()


def test_fetch_into_copies_a_message_in_chunks(account: GmailSettings) -> None:
    import io

    other = other_client(account)
    raw = plain_message(subject="chunks", body="x" * 5000 + "\n")
    other.append("INBOX", raw, "")
    other.select("INBOX")
    sink = io.BytesIO()
    assert other.fetch_into(1, sink, chunk=1000)
    assert sink.getvalue() == other.fetch([1])[1] and len(sink.getvalue()) > 5000
    assert not other.fetch_into(99, io.BytesIO())
    other.close()
