"""The parsed Gmail-style query in IMAP SEARCH criteria and in Gmail's own `q` syntax."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcp_servers.gmail.imap_connection import Folder
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.query_mapping import gmail_q, imap_search

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
INBOX, SENT, RECEIPTS = Folder("INBOX", "INBOX"), Folder("Sent", "SENT"), Folder("Receipts", None)


@pytest.mark.parametrize(
    ("text", "folder", "criteria", "exact"),
    [
        ("", INBOX, ["ALL"], True),
        (
            'from:bob subject:"quarterly report"',
            INBOX,
            ["FROM", '"bob"', "SUBJECT", '"quarterly report"'],
            True,
        ),
        ("to:ada is:unread is:starred", INBOX, ["TO", '"ada"', "UNSEEN", "FLAGGED"], True),
        ("is:read", INBOX, ["SEEN"], True),
        ("is:unread", SENT, ["NOT ALL"], True),
        ("is:read", SENT, ["ALL"], True),
        ("label:INBOX", INBOX, ["ALL"], True),
        ("label:INBOX", RECEIPTS, ["NOT ALL"], True),
        ("label:receipts", RECEIPTS, ["ALL"], True),
        ("label:Receipts", INBOX, ["KEYWORD", "Receipts"], True),
        ("label:UNREAD label:STARRED", INBOX, ["UNSEEN", "FLAGGED"], True),
        ('label:"Réunions/日本"', INBOX, ["NOT ALL"], True),
        ("pizza", INBOX, ["TEXT", '"pizza"'], False),
        ("from:rené", INBOX, ["ALL"], False),
        ("has:attachment", INBOX, ["ALL"], False),
        ("newer_than:2d", INBOX, ["SENTSINCE", "8-Mar-2026"], False),
        ('subject:"say \\"hi\\""', INBOX, ["SUBJECT", '"say \\"hi\\""'], True),
    ],
)
def test_imap_search_maps_each_term(text: str, folder: Folder, criteria: list[str], exact: bool) -> None:
    search = imap_search(parse_query(text), NOW, folder)
    assert (search.arguments(), search.exact) == (criteria, exact)


@pytest.mark.parametrize(
    ("text", "q"),
    [
        ("", ""),
        ('from:bob subject:"quarterly report" pizza', 'from:bob subject:"quarterly report" pizza'),
        ("to:ada is:unread is:starred has:attachment", "to:ada is:unread is:starred has:attachment"),
        ("is:read label:Receipts in:inbox", "label:Receipts label:INBOX is:read"),
        ("newer_than:2d", f"after:{int(NOW.timestamp()) - 2 * 86400}"),
        ('label:"Réunions/日本" subject:"a (b)"', 'subject:"a (b)" label:Réunions/日本'),
    ],
)
def test_gmail_q_speaks_gmail_search(text: str, q: str) -> None:
    assert gmail_q(parse_query(text), NOW) == q
