"""The parsed Gmail search in IMAP SEARCH keys (exact, or a superset) and back in Gmail's own `q`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcp_servers.gmail.imap_connection import Folder
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.query_mapping import gmail_q, imap_search

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
INBOX, SENT, RECEIPTS = Folder("INBOX", "INBOX"), Folder("Sent", "SENT"), Folder("Receipts", None)
TRASH = Folder("Trash", "TRASH")
MARCH_5 = int(datetime(2026, 3, 5, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("text", "folder", "criteria", "exact"),
    [
        ("", INBOX, ["ALL"], True),
        ('from:bob subject:"quarterly report"', INBOX, ['FROM "bob"', 'SUBJECT "quarterly report"'], False),
        ("to:ada is:unread is:starred", INBOX, ['TO "ada"', "UNSEEN", "FLAGGED"], False),
        ("is:read", INBOX, ["NOT UNSEEN"], True),
        ("is:unread", SENT, ["NOT ALL"], True),
        ("is:read", SENT, ["ALL"], True),
        ("label:INBOX", INBOX, ["ALL"], True),
        ("label:INBOX", RECEIPTS, ["NOT ALL"], True),
        ("label:receipts", RECEIPTS, ["ALL"], True),
        ("label:Receipts", INBOX, ["KEYWORD Receipts"], True),
        ("label:UNREAD label:STARRED", INBOX, ["UNSEEN", "FLAGGED"], True),
        ('label:"Réunions/日本"', INBOX, ["NOT ALL"], True),
        ("pizza", INBOX, ['TEXT "pizza"'], False),
        ("from:rené", INBOX, ["ALL"], False),
        ("has:attachment", INBOX, ["ALL"], False),
        ("newer_than:2d", INBOX, ["SENTSINCE 7-Mar-2026"], False),
        ("before:2026/03/05", INBOX, ["SENTBEFORE 7-Mar-2026"], False),
        ("subject:back\\slash", INBOX, ['SUBJECT "back\\\\slash"'], False),
        ("from:dana OR from:priya", INBOX, ['OR FROM "dana" FROM "priya"'], False),
        ("is:unread OR is:starred", INBOX, ["OR (UNSEEN UID 1:*) (FLAGGED UID 1:*)"], True),
        ("-is:starred", INBOX, ["NOT FLAGGED"], True),
        ("-is:read", INBOX, ["UNSEEN"], True),
        ("-from:dana", INBOX, ["ALL"], False),
        (
            "{is:starred label:Receipts} is:unread",
            INBOX,
            ["OR (FLAGGED UID 1:*) KEYWORD Receipts", "UNSEEN"],
            True,
        ),
        ("(is:unread is:starred) OR label:Travel", INBOX, ["OR (UNSEEN FLAGGED) KEYWORD Travel"], True),
        ("-(is:unread is:starred)", INBOX, ["OR (NOT UNSEEN UID 1:*) (NOT FLAGGED UID 1:*)"], True),
        ("larger:10K -smaller:2M", INBOX, ["LARGER 10240", "NOT SMALLER 2097152"], True),
        ("label:INBOX OR pizza", INBOX, ["ALL"], False),
        ("", TRASH, ["NOT ALL"], True),
        ("in:anywhere", TRASH, ["ALL"], True),
        ("label:trash is:unread", TRASH, ["UNSEEN"], True),
        ("has:userlabels", RECEIPTS, ["ALL"], True),
        ("has:userlabels", INBOX, ["ALL"], False),
        ("from:me", INBOX, ['FROM "me@home.example"'], False),
    ],
)
def test_imap_search_maps_each_term(text: str, folder: Folder, criteria: list[str], exact: bool) -> None:
    search = imap_search(parse_query(text), NOW, folder, me="me@home.example")
    assert (search.arguments(), search.exact) == (criteria, exact)


@pytest.mark.parametrize(
    ("text", "q"),
    [
        ("", ""),
        ('from:bob subject:"quarterly report" pizza', 'from:bob subject:"quarterly report" pizza'),
        ("to:ada is:unread is:starred has:attachment", "to:ada is:unread is:starred has:attachment"),
        ("is:read label:Receipts in:inbox", "-is:unread label:Receipts in:inbox"),
        ("newer_than:2d", f"after:{int(NOW.timestamp()) - 2 * 86400}"),
        ("older_than:12h", f"before:{int(NOW.timestamp()) - 12 * 3600}"),
        ('label:"Réunions/日本" subject:"a (b)"', 'label:Réunions/日本 subject:"a (b)"'),
        ("from:dana OR from:priya", "{from:dana from:priya}"),
        ("-(from:dana OR from:priya) in:inbox", "-{from:dana from:priya} in:inbox"),
        ("(from:dana subject:budget) OR is:starred", "((from:dana subject:budget) OR is:starred)"),
        ("subject:(dinner movie)", "subject:dinner subject:movie"),
        ("after:2026/03/05", f"after:{MARCH_5}"),
        ("larger:10M smaller:20000", "larger:10485760 smaller:20000"),
        ("holiday AROUND 10 vacation", "holiday AROUND 10 vacation"),
        ("rfc822msgid:<a@b.example>", "rfc822msgid:a@b.example"),
        ("in:anywhere has:nouserlabels", "in:anywhere -has:userlabels"),
        ("category:primary is:important", "category:primary is:important"),
        (
            "cc:ada bcc:bob filename:pdf list:dev deliveredto:me@x.example",
            "cc:ada bcc:bob filename:pdf list:dev deliveredto:me@x.example",
        ),
    ],
)
def test_gmail_q_speaks_gmail_search(text: str, q: str) -> None:
    assert gmail_q(parse_query(text), NOW) == q


@pytest.mark.parametrize(
    "text", ["from:dana OR from:priya", "-(a OR b) {c d} subject:(e f)", "is:read larger:1M"]
)
def test_gmail_q_parses_back_to_the_same_tree(text: str) -> None:
    assert parse_query(gmail_q(parse_query(text), NOW)).tree == parse_query(text).tree
