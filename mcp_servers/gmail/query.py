"""The subset of Gmail's search syntax the server understands, parsed once and mapped per provider.

Supported: `from:`, `to:`, `subject:`, `label:` (and `in:` as a synonym), `is:unread`, `is:read`,
`is:starred`, `newer_than:Nd|Nm|Ny|Nh`, `has:attachment`, and free words; values may be quoted
(`subject:"quarterly report"`). Anything else is refused with a `QueryError` that names the operator
and lists the supported ones, rather than being silently ignored.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

__all__ = ["Query", "QueryError", "parse_query"]

_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "m": timedelta(days=30), "y": timedelta(days=365)}
SUPPORTED = "from:, to:, subject:, label:, in:, is:unread|read|starred, newer_than:Nd, has:attachment"


class QueryError(ValueError):
    """The query uses syntax this server does not support."""


class Query(BaseModel):
    """A parsed search: every criterion must hold (AND)."""

    sender: list[str] = Field(default_factory=list)
    recipient: list[str] = Field(default_factory=list)
    subject: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    unread: bool | None = None
    starred: bool | None = None
    newer_than: timedelta | None = None
    has_attachment: bool = False
    words: list[str] = Field(default_factory=list)

    def since(self, now: datetime) -> datetime | None:
        return now - self.newer_than if self.newer_than else None


def _tokens(text: str) -> list[str]:
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError as exc:
        raise QueryError(f"cannot read the query {text!r}: {exc} (close the quotes)") from exc


def _apply(query: Query, operator: str, value: str) -> None:
    lowered = value.lower()
    if operator == "from":
        query.sender.append(lowered)
    elif operator == "to":
        query.recipient.append(lowered)
    elif operator == "subject":
        query.subject.append(lowered)
    elif operator in ("label", "in"):
        query.labels.append(
            value.upper()
            if lowered in ("inbox", "unread", "starred", "sent", "draft", "trash", "spam")
            else value
        )
    elif operator == "is" and lowered in ("unread", "read"):
        query.unread = lowered == "unread"
    elif operator == "is" and lowered == "starred":
        query.starred = True
    elif operator == "has" and lowered == "attachment":
        query.has_attachment = True
    elif operator == "newer_than":
        match = re.fullmatch(r"(\d{1,5})([hdmy])", lowered)
        if not match:
            raise QueryError(f"newer_than:{value} is not a period: use e.g. newer_than:2d (h, d, m, y)")
        query.newer_than = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise QueryError(
            f"unsupported search term {operator}:{value}; supported: {SUPPORTED}, and free words"
        )


def parse_query(text: str) -> Query:
    """Parse a Gmail-style query; raise `QueryError` on anything unsupported."""
    query = Query()
    for token in _tokens(text):
        operator, sep, value = token.partition(":")
        if sep and re.fullmatch(r"[a-z_]+", operator.lower()) and value:
            _apply(query, operator.lower(), value)
        elif sep and not value and re.fullmatch(r"[a-z_]+", operator.lower()):
            raise QueryError(f"{operator}: needs a value, e.g. {operator}:something")
        else:
            query.words.append(token.lower())
    return query
