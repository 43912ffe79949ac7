"""A parsed Gmail search in each provider's own language: IMAP SEARCH criteria and Gmail's `q`.

The index answers `search_messages` for every provider (see the README), so these mappings are what
a server-side search would send. `imap_search` gives the UID SEARCH criteria for one folder and
whether they select exactly what the index would. Exact: labels, folders, flags, keywords,
`larger`/`smaller` (both count RFC822.SIZE), `in:anywhere` (keywords are compared case-insensitively,
as Dovecot does), and AND, OR and NOT of exact terms.
Not exact, and then a superset to refine with the index: text terms (IMAP matches substrings of the
raw header or body, the index whole words with accents folded; non-ASCII text is left out: it would
need a literal), dates (IMAP's SENTSINCE/SENTBEFORE count whole days in the sender's zone: widened by
a day each way), `has:attachment`, `filename:`, `list:`, `deliveredto:`, `rfc822msgid:`. A NOT over an
inexact term becomes ALL (a negated superset would be a subset).
`gmail_q` writes the tree back in Gmail's syntax, with dates as seconds (exact in any time zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from .imap_connection import Folder
from .query import Query
from .query_terms import (
    And,
    Anywhere,
    DateTerm,
    HasAttachment,
    HasUserLabels,
    LabelTerm,
    MessageIdTerm,
    Near,
    Node,
    Not,
    Or,
    SizeTerm,
    Text,
    label_key,
)  # fmt: skip
from .search_sql import instant

__all__ = ["ImapSearch", "gmail_q", "imap_search"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FOLDER_KEYS = {"inbox", "sent", "draft", "trash", "spam"}
_KEYWORD = re.compile(r"^[A-Za-z0-9_.\-]+$")
_IMAP_TEXT = {"from": "FROM", "to": "TO", "cc": "CC", "bcc": "BCC", "subject": "SUBJECT", "": "TEXT"}
_NOTHING = ["NOT ALL"]
_FLAG_KEY = re.compile(r"(NOT )?(UN)?(SEEN|FLAGGED|ANSWERED|DELETED|DRAFT)")


@dataclass
class ImapSearch:
    """UID SEARCH criteria for a query in one folder; `exact` when they select what the index would."""

    criteria: list[str] = field(default_factory=list)
    exact: bool = True

    def arguments(self) -> list[str]:
        return self.criteria or ["ALL"]


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _negate(key: str) -> str:
    return key.removeprefix("NOT ") if key.startswith("NOT ") and " " not in key[4:] else f"NOT {key}"


def _either(first: str, second: str) -> str:
    """`OR first second`, each flag key guarded: Dovecot 2.3 answers `OR UNSEEN UNFLAGGED` (and its
    other ORs of negated \\Seen) as if it were an AND; `(UNSEEN UID 1:*)` keeps its meaning."""
    return f"OR {_guard(first)} {_guard(second)}"


def _guard(key: str) -> str:
    return f"({key} UID 1:*)" if _FLAG_KEY.fullmatch(key) else key


def _imap_day(moment: datetime) -> str:
    return f"{moment.day}-{_MONTHS[moment.month - 1]}-{moment.year}"


class _ImapMapper:
    """Tree to IMAP search keys, each a complete key (`FROM "ada"`, `OR (A B) C`, `NOT SEEN`)."""

    def __init__(self, now: datetime, zone: tzinfo, folder: Folder, me: str | None) -> None:
        self.now, self.zone, self.folder, self.me = now, zone, folder, me

    def one(self, node: Node) -> tuple[str, bool]:
        """A single search key for `node` (several are parenthesized) and whether it is exact."""
        keys, exact = self.map(node)
        return ("(" + " ".join(keys) + ")" if len(keys) > 1 else keys[0] if keys else "ALL"), exact

    def map(self, node: Node) -> tuple[list[str], bool]:
        if isinstance(node, And):
            keys, exact = [], True
            for child in node.children:
                found, child_exact = self.map(child)
                keys, exact = keys + found, exact and child_exact
            return keys, exact
        if isinstance(node, Or):
            (first, exact), rest = self.one(node.children[0]), node.children[1:]
            second, second_exact = self.one(Or(rest) if len(rest) > 1 else rest[0])
            if "ALL" in (first, second):
                return [], exact and second_exact
            return [_either(first, second)], exact and second_exact
        if isinstance(node, Not):
            keys, exact = self.map(node.child)
            if not exact or keys == _NOTHING:
                return [], exact
            negated = [_negate(key) for key in keys] or _NOTHING
            while len(negated) > 1:  # De Morgan: NOT (A B) = OR (NOT A) (NOT B)
                negated[-2:] = [_either(*negated[-2:])]
            return negated, True
        keys, exact = self.leaf(node)
        return keys, exact

    def leaf(self, node: Node) -> tuple[list[str], bool]:
        if isinstance(node, Text):
            mine = node.value.lower() == "me" and node.field in ("from", "to", "cc", "bcc")
            value = (self.me or "") if mine else node.value
            if node.field in _IMAP_TEXT and value and value.isascii():
                return [f"{_IMAP_TEXT[node.field]} {_string(value)}"], False
            return [], False
        if isinstance(node, Near):
            return [f"TEXT {_string(w)}" for w in (node.left, node.right) if w.isascii()], False
        if isinstance(node, LabelTerm):
            return self.label(node), True
        if isinstance(node, SizeTerm):
            return [f"{'LARGER' if node.larger else 'SMALLER'} {node.size}"], True
        if isinstance(node, DateTerm):
            moment = instant(node, self.now, self.zone).astimezone(UTC)
            if node.after:
                return [f"SENTSINCE {_imap_day(moment - timedelta(days=1))}"], False
            return [f"SENTBEFORE {_imap_day(moment + timedelta(days=2))}"], False
        if isinstance(node, Anywhere):
            return [], True
        if isinstance(node, HasUserLabels) and self.folder.role is None and self.folder.label:
            return [], True
        return [], False  # has:attachment, has:userlabels elsewhere, filename:, list:, ...: no IMAP key

    def label(self, node: LabelTerm) -> list[str]:
        unread_possible = self.folder.role not in ("SENT", "DRAFT")  # never UNREAD there (`ImapStore.labels`)
        if self.folder.label is not None and label_key(self.folder.label) == node.key:
            return []
        if node.key == "unread":
            return ["UNSEEN"] if unread_possible else _NOTHING
        if node.key == "starred":
            return ["FLAGGED"]
        op, _, written = node.written.partition(":")
        if node.key in _FOLDER_KEYS or not _KEYWORD.match(node.key):
            return _NOTHING  # a label only a folder can give, and not this one
        if op in ("is", "category"):  # Gmail's system label ids: IMPORTANT, CATEGORY_UPDATES
            return [f"KEYWORD {node.key.upper()}"]
        return [
            f"KEYWORD {written if label_key(written) == node.key and _KEYWORD.match(written) else node.key}"
        ]


def imap_search(
    query: Query, now: datetime, folder: Folder, *, zone: tzinfo = UTC, me: str | None = None
) -> ImapSearch:
    """The IMAP form of `query` for messages in `folder` (whose label a message there carries)."""
    mapper = _ImapMapper(now, zone, folder, me)
    criteria, exact = mapper.map(query.tree) if query.tree is not None else ([], True)
    if folder.role in ("TRASH", "SPAM") and not query.names() & {"trash", "spam", "anywhere"}:
        criteria, exact = _NOTHING, True  # Gmail leaves spam and trash out unless asked
    return ImapSearch(criteria, exact)


def _gmail_value(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s()\"{}]", value) else value


def gmail_q(query: Query, now: datetime, zone: tzinfo = UTC) -> str:
    """The Gmail search string (`users.messages.list(q=...)`) for `query`."""
    return _q(query.tree, now, zone, top=True) if query.tree is not None else ""


def _q(node: Node, now: datetime, zone: tzinfo, top: bool = False) -> str:
    if isinstance(node, And):
        inner = " ".join(_q(child, now, zone) for child in node.children)
        return inner if top else f"({inner})"
    if isinstance(node, Or):
        parts = [_q(child, now, zone) for child in node.children]
        simple = all(not isinstance(c, And | Or) for c in node.children)
        return "{" + " ".join(parts) + "}" if simple else "(" + " OR ".join(parts) + ")"
    if isinstance(node, Not):
        return "-" + _q(node.child, now, zone)
    if isinstance(node, Text):
        value = f'"{node.value}"' if node.quoted else _gmail_value(node.value)
        return f"{node.field}:{value}" if node.field else value
    if isinstance(node, Near):
        return f"{_gmail_value(node.left)} AROUND {node.distance} {_gmail_value(node.right)}"
    if isinstance(node, LabelTerm):
        op, _, value = node.written.partition(":")
        return f"{op}:{_gmail_value(value)}"
    if isinstance(node, DateTerm):  # seconds: exact, unlike newer_than's days or a day in Gmail's zone
        return f"{'after' if node.after else 'before'}:{int(instant(node, now, zone).timestamp())}"
    if isinstance(node, SizeTerm):
        return f"{'larger' if node.larger else 'smaller'}:{node.size}"
    if isinstance(node, MessageIdTerm):
        return f"rfc822msgid:{_gmail_value(node.value)}"
    return {Anywhere: "in:anywhere", HasAttachment: "has:attachment", HasUserLabels: "has:userlabels"}[
        type(node)
    ]
