"""The search half of the gmail index: an FTS5 table of each message's fields, a label table, and the
Gmail syntax tree compiled to one SQL query with keyset paging.

`messages_fts` holds, per message (rowid = the `messages` row), the words of From, To, Cc, Bcc,
Subject, the whole body, attachment names, List-Id and Delivered-To, folded by FTS5's `unicode61`
tokenizer (case and accents). `labels` holds each message's labels by Gmail key (`label_key`),
written whenever the change journal records a message's labels, so it always says what the feed
said. `migrate` brings an index written before these tables (schema 1: one lowercased
`search_text` per row) up to schema 2 in place: labels from each message's last journal entry, text
from `search_text`, rows marked to be re-read once (`fields_version = 1`) for what schema 1 never
kept (Cc apart from To, Bcc, file names, size, List-Id, Delivered-To, Message-ID).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from .models import Message
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
    label_key,
)  # fmt: skip

__all__ = ["FIELDS_VERSION", "MAX_PAGE", "SearchFields", "SearchPlan", "instant", "migrate", "plan_search"]

FIELDS_VERSION = 2
MAX_PAGE = 500
SYSTEM_KEYS = ("inbox", "unread", "starred", "trash", "spam", "sent", "draft", "important")
_FTS_COLUMNS = (
    "f_from",
    "f_to",
    "f_cc",
    "f_bcc",
    "f_subject",
    "f_body",
    "f_filename",
    "f_list",
    "f_deliveredto",
)
_SCHEMA_2 = f"""
CREATE TABLE IF NOT EXISTS labels (id TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY (id, label)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_by_label ON labels (label, id);
CREATE INDEX IF NOT EXISTS messages_by_date ON messages (date, id);
CREATE INDEX IF NOT EXISTS messages_by_message_id ON messages (message_id);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (
    {", ".join(_FTS_COLUMNS)}, tokenize='unicode61 remove_diacritics 2');
"""


@dataclass
class SearchFields:
    """What search reads of one message besides its labels and date."""

    texts: tuple[str, ...]  # in _FTS_COLUMNS order
    size: int
    message_id: str | None

    @classmethod
    def of(cls, message: Message) -> SearchFields:
        people = [[f"{a.name} {a.email}" for a in group] for group in (message.to, message.cc, message.bcc)]
        texts = (
            f"{message.from_.name} {message.from_.email}" if message.from_ else "", *(" ".join(group) for group in people),
            message.subject, "\n".join(filter(None, (message.text, message.quoted, message.signature))),
            " ".join(a.name for a in message.attachments), message.list_headers.list_id or "",
            " ".join(message.delivered_to),
        )  # fmt: skip
        return cls(texts, message.size, message.message_id.strip("<>") if message.message_id else None)


def write_fields(db: sqlite3.Connection, id: str, fields: SearchFields) -> None:
    """Store `fields` for message `id` (its `messages` row must exist)."""
    (rowid,) = db.execute("SELECT rowid FROM messages WHERE id=?", (id,)).fetchone()
    db.execute("DELETE FROM messages_fts WHERE rowid=?", (rowid,))
    db.execute(f"INSERT INTO messages_fts (rowid, {', '.join(_FTS_COLUMNS)}) VALUES (?{',?' * 9})",
               (rowid, *fields.texts))  # fmt: skip
    db.execute("UPDATE messages SET size=?, message_id=?, fields_version=? WHERE id=?",
               (fields.size, fields.message_id, FIELDS_VERSION, id))  # fmt: skip


def forget(db: sqlite3.Connection, id: str) -> None:
    """Drop message `id`'s text and labels (before its `messages` row goes)."""
    found = db.execute("SELECT rowid FROM messages WHERE id=?", (id,)).fetchone()
    if found:
        db.execute("DELETE FROM messages_fts WHERE rowid=?", found)
    db.execute("DELETE FROM labels WHERE id=?", (id,))


def set_labels(db: sqlite3.Connection, id: str, labels: list[str]) -> None:
    db.execute("DELETE FROM labels WHERE id=?", (id,))
    db.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?)", [(id, label_key(name)) for name in labels])


def migrate(db: sqlite3.Connection) -> None:
    """Bring the index to schema 2 (see the module docstring); a no-op when it is there."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    if "fields_version" in columns:
        db.executescript(_SCHEMA_2)
        return
    db.execute("BEGIN IMMEDIATE")
    for column in ("size INTEGER NOT NULL DEFAULT 0", "message_id TEXT",
                   "fields_version INTEGER NOT NULL DEFAULT 1"):  # fmt: skip
        db.execute(f"ALTER TABLE messages ADD COLUMN {column}")
    for statement in filter(str.strip, _SCHEMA_2.split(";")):
        db.execute(statement)
    db.create_function("label_key", 1, label_key, deterministic=True)
    db.execute(
        "INSERT OR IGNORE INTO labels SELECT c.message_id, label_key(j.value) FROM changes c "
        "JOIN (SELECT message_id, MAX(seq) AS seq FROM changes GROUP BY message_id) last USING (message_id, seq), "
        "json_each(c.labels) j WHERE c.message_id IN (SELECT id FROM messages)"
    )
    rows = db.execute("SELECT rowid, search_text FROM messages WHERE error IS NULL").fetchall()
    for rowid, text in rows:
        sender, recipients, subject, body = ([*text.split("\n", 3), "", "", ""])[:4]
        db.execute("INSERT INTO messages_fts (rowid, f_from, f_to, f_subject, f_body) VALUES (?,?,?,?,?)",
                   (rowid, sender, recipients, subject, body))  # fmt: skip
    db.execute("COMMIT")


@dataclass
class SearchPlan:
    """One page of a search as SQL: `where` over `messages m`, newest first, and how to page on."""

    where: str
    params: list
    limit: int
    now: datetime
    digest: str

    def next_cursor(self, last_date: float, last_id: str) -> str:
        raw = json.dumps([self.digest, self.now.timestamp(), last_date, last_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def plan_search(
    query: Query, *, now: datetime, zone: tzinfo, me: str | None, limit: int, cursor: str | None
) -> SearchPlan:
    """The SQL for one page of `query`; `now` and `zone` give relative and calendar dates their
    instant (a cursor carries the first page's `now`, so later pages see the same dates)."""
    if not 1 <= limit <= MAX_PAGE:
        raise QueryError(f"a page holds 1 to {MAX_PAGE} messages: ask for a limit in that range")
    digest = hashlib.sha256(query.text.strip().encode()).hexdigest()[:16]
    after: tuple[float, str] | None = None
    if cursor:
        now, after = _read_cursor(cursor, digest)
    compiler = _Compiler(now, zone, me)
    where = ["m.error IS NULL"]
    if query.tree is not None:
        where.append(compiler.sql(query.tree))
    if not query.names() & {"trash", "spam", "anywhere"}:  # Gmail leaves them out unless asked
        where.append("NOT EXISTS (SELECT 1 FROM labels l WHERE l.id = m.id AND l.label IN ('trash', 'spam'))")
    if after is not None:
        where.append("(m.date < ? OR (m.date = ? AND m.id < ?))")
        compiler.params += [after[0], after[0], after[1]]
    return SearchPlan(" AND ".join(where), compiler.params, limit, now, digest)


def _read_cursor(cursor: str, digest: str) -> tuple[datetime, tuple[float, str]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        owner, now, date, id = json.loads(raw)
        moment = datetime.fromtimestamp(float(now)).astimezone()
        position = (float(date), str(id))
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise QueryError("the cursor is malformed: pass the next_cursor of the previous page") from exc
    if owner != digest:
        raise QueryError(
            "the cursor belongs to another query: repeat the query it came from, or omit the cursor"
        )
    return moment, position


def _phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


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
        return "m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"

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
        textual = [c for c in children if self.fts(c) is not None]
        if joiner == " AND ":
            textual += [c for c in children if isinstance(c, Not) and self.fts(c.child) is not None]
            expression = self._fts_and(tuple(textual)) if len(textual) > 1 else None
        else:
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
