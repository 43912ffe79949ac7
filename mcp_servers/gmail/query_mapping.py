"""A parsed `Query` in each provider's own search language: IMAP SEARCH criteria and Gmail's `q`.

The index answers `search_messages` for every provider (see the README: every folder is synced in
full, and the index applies Gmail's semantics exactly), so these mappings are what a server-side
search would send. `imap_search` gives the UID SEARCH criteria for one folder and whether they
select exactly what the index would: IMAP has no attachment criterion, SENTSINCE counts whole days,
TEXT also reads quoted text and headers, and non-ASCII terms would need a literal (left out), so
with those the result is a superset, to refine with `indexed.matches`.
`gmail_q` is exact: Gmail understands the whole subset natively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .imap_connection import Folder
from .query import Query

__all__ = ["ImapSearch", "gmail_q", "imap_search"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FOLDER_ROLES = {"INBOX", "SENT", "DRAFT", "TRASH", "SPAM"}
_KEYWORD = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass
class ImapSearch:
    """UID SEARCH criteria for a query in one folder; `exact` when they select what the index would."""

    criteria: list[str] = field(default_factory=list)
    exact: bool = True

    def arguments(self) -> list[str]:
        return self.criteria or ["ALL"]


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_search(query: Query, now: datetime, folder: Folder) -> ImapSearch:
    """The IMAP form of `query` for messages in `folder` (whose label a message there carries)."""
    found = ImapSearch()
    for key, values in (("FROM", query.sender), ("TO", query.recipient), ("SUBJECT", query.subject),
                        ("TEXT", query.words)):  # fmt: skip
        for value in values:
            if value.isascii():
                found.criteria += [key, _string(value)]
            found.exact = found.exact and value.isascii() and key != "TEXT"  # TEXT also reads quotes
    unread_possible = folder.role not in ("SENT", "DRAFT")  # never UNREAD there (`ImapStore.labels`)
    for label in query.labels:
        if folder.label is not None and label.lower() == folder.label.lower():
            continue
        if label == "UNREAD":
            found.criteria.append("UNSEEN" if unread_possible else "NOT ALL")
        elif label == "STARRED":
            found.criteria.append("FLAGGED")
        elif _KEYWORD.match(label) and label not in _FOLDER_ROLES:
            found.criteria += ["KEYWORD", label]
        else:
            found.criteria.append("NOT ALL")  # a label only a folder can give, and not this one
    if query.unread is not None:
        if unread_possible:
            found.criteria.append("UNSEEN" if query.unread else "SEEN")
        elif query.unread:
            found.criteria.append("NOT ALL")
    if query.starred:
        found.criteria.append("FLAGGED")
    if (since := query.since(now)) is not None:  # whole days in the sender's zone: a superset
        found.criteria += ["SENTSINCE", f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"]
        found.exact = False
    if query.has_attachment:  # IMAP has no criterion for it
        found.exact = False
    return found


def _gmail_value(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s()\"{}]", value) else value


def gmail_q(query: Query, now: datetime) -> str:
    """The Gmail search string (`users.messages.list(q=...)`) for `query`."""
    terms = [f"from:{_gmail_value(v)}" for v in query.sender]
    terms += [f"to:{_gmail_value(v)}" for v in query.recipient]
    terms += [f"subject:{_gmail_value(v)}" for v in query.subject]
    terms += [f"label:{_gmail_value(v)}" for v in query.labels]
    if query.unread is not None:
        terms.append("is:unread" if query.unread else "is:read")
    if query.starred:
        terms.append("is:starred")
    if query.has_attachment:
        terms.append("has:attachment")
    if (since := query.since(now)) is not None:
        terms.append(f"after:{int(since.timestamp())}")  # seconds: exact, unlike newer_than's days
    terms += [_gmail_value(word) for word in query.words]
    return " ".join(terms)
