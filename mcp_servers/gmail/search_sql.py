"""The Gmail syntax tree as one SQL query over the index (`search_index`), a page at a time.

Text terms become FTS5 expressions: a run of AND-ed text terms (with its `-` terms as FTS5 `NOT`) is
one MATCH, and when the query's top level has one, the search is driven from the FTS5 table in its
rowid order (newest first, see `search_index`), so it stops after a page. Labels, states, sizes,
dates and Message-IDs are plain conditions on `messages m` and the `labels` table; OR, NOT and
groups nest as SQL. Gmail leaves spam and trash out unless the query asks for them (`in:spam`,
`label:trash`, `in:anywhere`), and so does this. Paging is by keyset: the opaque cursor holds the
last key of the page, the first page's clock (so `newer_than` means the same on every page) and a
digest of the query (a cursor of another query is refused).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

from .query import Query, QueryError
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
)  # fmt: skip

__all__ = ["MAX_PAGE", "SearchPlan", "instant", "plan_search"]

MAX_PAGE = 500
SYSTEM_KEYS = ("inbox", "unread", "starred", "trash", "spam", "sent", "draft", "important")
_MATCHING = "m.fts_key IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"


@dataclass
class SearchPlan:
    """One page of a search as SQL over `messages m`, newest first, and how to page on."""

    driving: str | None  # the top-level FTS5 expression the search walks, if any
    where: list[str]
    params: list
    limit: int
    now: datetime
    digest: str
    after: int | None = field(default=None)
    keys: tuple[int | None, int | None] = (None, None)  # the top-level dates as a key range

    def statement(self, columns: str) -> tuple[str, list]:
        """The SELECT of `columns` (plus the key, last) for this page: one row more than the page."""
        conditions = list(self.where)
        params = ([self.driving] if self.driving is not None else []) + list(self.params)
        key = "messages_fts.rowid" if self.driving is not None else "m.fts_key"  # FTS5 seeks a rowid range
        highest = min((k for k in (self.after, self.keys[1]) if k is not None), default=None)
        for bound, operator in ((self.keys[0], ">="), (highest, "<")):
            if bound is not None:
                conditions.append(f"{key} {operator} ?")
                params.append(bound)
        where = " AND ".join(conditions) or "1"
        if self.driving is not None:
            source = "messages_fts JOIN messages m ON m.fts_key = messages_fts.rowid"
            where, order = f"messages_fts MATCH ? AND {where}", "messages_fts.rowid DESC"
        else:
            source, order = "messages m", "m.fts_key DESC"
        return f"SELECT {columns}, m.fts_key FROM {source} WHERE {where} ORDER BY {order} LIMIT ?", [
            *params, self.limit + 1,
        ]  # fmt: skip

    def next_cursor(self, last_key: int) -> str:
        raw = json.dumps([self.digest, self.now.timestamp(), last_key]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def plan_search(
    query: Query, *, now: datetime, zone: tzinfo, me: str | None, limit: int, cursor: str | None
) -> SearchPlan:
    """The SQL for one page of `query`; `now` and `zone` give relative and calendar dates their
    instant (a cursor carries the first page's `now`, so later pages see the same dates)."""
    if not 1 <= limit <= MAX_PAGE:
        raise QueryError(f"a page holds 1 to {MAX_PAGE} messages: ask for a limit in that range")
    digest = hashlib.sha256(query.text.strip().encode()).hexdigest()[:16]
    after: int | None = None
    if cursor:
        now, after = _read_cursor(cursor, digest)
    compiler = _Compiler(now, zone, me)
    driving, where = compiler.top(query.tree) if query.tree is not None else (None, [])
    where.insert(0, "m.error IS NULL")
    if not query.names() & {"trash", "spam", "anywhere"}:  # Gmail leaves them out unless asked
        where.append("NOT EXISTS (SELECT 1 FROM labels l WHERE l.id = m.id AND l.label IN ('trash', 'spam'))")
    return SearchPlan(
        driving, where, compiler.params, limit, now, digest, after, compiler.key_range(query.tree)
    )


def _read_cursor(cursor: str, digest: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        owner, now, key = json.loads(raw)
        moment = datetime.fromtimestamp(float(now)).astimezone()
        position = int(key)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise QueryError("the cursor is malformed: pass the next_cursor of the previous page") from exc
    if owner != digest:
        raise QueryError(
            "the cursor belongs to another query: repeat the query it came from, or omit the cursor"
        )
    return moment, position


def _phrase(value: str) -> str:
    return '"' + value.replace("\x00", " ").replace('"', '""') + '"'  # an FTS5 string ends at a NUL


class _Compiler:
    """Tree to SQL: runs of text terms become one FTS5 MATCH, the rest plain conditions."""

    def __init__(self, now: datetime, zone: tzinfo, me: str | None) -> None:
        self.now, self.zone, self.me = now, zone, me
        self.params: list = []

    def fts(self, node: Node) -> str | None:
        """The FTS5 expression for `node`, or None when it is not text alone."""
        if isinstance(node, Text):
            value = (
                self._me(node)
                if node.value.lower() == "me" and node.field in ("from", "to", "cc", "bcc")
                else node.value
            )
            return f"{'f_' + node.field + ' : ' if node.field else ''}{_phrase(value)}"
        if isinstance(node, Near):
            return f"NEAR({_phrase(node.left)} {_phrase(node.right)}, {node.distance})"
        if isinstance(node, Or):
            parts = [self.fts(child) for child in node.children]
            return None if None in parts else "(" + " OR ".join(parts) + ")"  # type: ignore[arg-type]
        if isinstance(node, And):
            return self._fts_and(node.children)
        return None

    def _fts_and(self, children: tuple[Node, ...]) -> str | None:
        positive = [self.fts(c) for c in children if not isinstance(c, Not)]
        negative = [self.fts(c.child) for c in children if isinstance(c, Not)]
        if not positive or None in positive or None in negative:
            return None
        expression = " AND ".join(positive)  # type: ignore[arg-type]
        return f"({expression}{' NOT (' + ' OR '.join(negative) + ')' if negative else ''})"  # type: ignore[arg-type]

    def _me(self, node: Text) -> str:
        if not self.me:
            raise QueryError(f"{node.field}:me needs the account's address: set PEPPER_GMAIL_FROM_ADDRESS")
        return self.me

    def match(self, expression: str) -> str:
        self.params.append(expression)
        return _MATCHING

    def top(self, node: Node) -> tuple[str | None, list[str]]:
        """The FTS5 expression to drive the search (None: none at the top) and the other conditions."""
        if (expression := self.fts(node)) is not None:
            return expression, []
        if not isinstance(node, And):
            return None, [self.sql(node)]
        textual = self._textual(node.children)
        driving = self._fts_and(tuple(textual)) if textual else None
        rest = [c for c in node.children if driving is None or c not in textual]
        return driving, [self.sql(c) for c in rest]

    def key_range(self, node: Node | None) -> tuple[int | None, int | None]:
        """Bounds on `fts_key` implied by the top-level dates (a superset: the dates stay conditions)."""
        dates = (
            [node]
            if isinstance(node, DateTerm)
            else [c for c in getattr(node, "children", ()) if isinstance(c, DateTerm)]
        )
        seconds = [(d.after, math.floor(instant(d, self.now, self.zone).timestamp())) for d in dates]
        lows = [second << 20 for after, second in seconds if after]
        highs = [(second + 1) << 20 for after, second in seconds if not after]
        return max(lows, default=None), min(highs, default=None)

    def _textual(self, children: tuple[Node, ...]) -> list[Node]:
        """The children of an AND that FTS5 can take: text terms and negated text terms."""
        return [c for c in children if self.fts(c) is not None] + [
            c for c in children if isinstance(c, Not) and self.fts(c.child) is not None
        ]

    def sql(self, node: Node) -> str:
        if (expression := self.fts(node)) is not None:
            return self.match(expression)
        if isinstance(node, And):
            return self._group(node.children, " AND ")
        if isinstance(node, Or):
            return self._group(node.children, " OR ")
        if isinstance(node, Not):
            return f"NOT ({self.sql(node.child)})"
        return self._condition(node)

    def _group(self, children: tuple[Node, ...], joiner: str) -> str:
        if joiner == " AND ":
            textual = self._textual(children)
            expression = self._fts_and(tuple(textual)) if len(textual) > 1 else None
        else:
            textual = [c for c in children if self.fts(c) is not None]
            expression = "(" + " OR ".join(self.fts(c) for c in textual) + ")" if len(textual) > 1 else None  # type: ignore[misc]
        parts = [self.match(expression)] if expression is not None else []
        rest = [c for c in children if expression is None or c not in textual]
        return "(" + joiner.join(parts + [self.sql(c) for c in rest]) + ")"

    def _condition(self, node: Node) -> str:
        if isinstance(node, LabelTerm):
            self.params.append(node.key)
            return "EXISTS (SELECT 1 FROM labels l WHERE l.id = m.id AND l.label = ?)"
        if isinstance(node, Anywhere):
            return "1"
        if isinstance(node, HasAttachment):
            return "m.has_attachment = 1"
        if isinstance(node, HasUserLabels):
            keys = ", ".join(f"'{key}'" for key in SYSTEM_KEYS)
            return f"EXISTS (SELECT 1 FROM labels l WHERE l.id = m.id AND l.label NOT IN ({keys}) AND l.label NOT LIKE 'category\\_%' ESCAPE '\\')"
        if isinstance(node, SizeTerm):
            self.params.append(node.size)
            return f"m.size {'>' if node.larger else '<'} ?"
        if isinstance(node, DateTerm):
            self.params.append(instant(node, self.now, self.zone).timestamp())
            return f"m.date {'>=' if node.after else '<'} ?"
        if isinstance(node, MessageIdTerm):
            self.params.append(node.value)
            return "m.message_id = ?"
        raise QueryError(f"the search term {node!r} cannot be run here")  # every node type is handled above


def instant(node: DateTerm, now: datetime, zone: tzinfo) -> datetime:
    """The moment a date term compares with: `now` minus its period, its second, or its day's
    midnight in `zone`."""
    if node.ago is not None:
        return now - node.ago
    if node.epoch is not None:
        return datetime.fromtimestamp(node.epoch, zone)
    assert node.day is not None
    return datetime.combine(node.day, time(), tzinfo=zone)
