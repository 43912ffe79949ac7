"""The FTS5 search index: paging with opaque cursors, the search tool over MCP, and the upgrade of an
index written by the previous version (schema 1: no FTS, no label table) with its data kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_servers.gmail.journal import IndexRow, Journal
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.parsing import parse_file, parse_message
from mcp_servers.gmail.query import QueryError, parse_query
from mcp_servers.gmail.search_sql import plan_search
from mcp_servers.gmail.server import build_server
from mcp_servers.gmail.settings import GmailSettings

from .query_corpus import CORPUS, DEFAULT, ME, NOW, write_corpus

pytestmark = pytest.mark.anyio

# The previous format, as mcp_servers/gmail/journal.py wrote it before schema 2.
SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, message_id TEXT NOT NULL,
    labels TEXT NOT NULL, error TEXT);
CREATE TABLE messages (
    id TEXT PRIMARY KEY, folder TEXT NOT NULL, path TEXT NOT NULL, flags TEXT NOT NULL,
    extra_labels TEXT NOT NULL DEFAULT '[]', thread_id TEXT NOT NULL, date REAL NOT NULL,
    summary TEXT NOT NULL, search_text TEXT NOT NULL, has_attachment INTEGER NOT NULL, error TEXT);
CREATE INDEX messages_thread ON messages(thread_id);
"""


@pytest.fixture
async def mailbox(tmp_path: Path):
    keys = write_corpus(tmp_path / "Mail")
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await provider.open()
    yield provider, {key: name for name, key in keys.items()}
    await provider.aclose()


async def test_pages_follow_each_other_without_gap_or_repeat(mailbox) -> None:
    provider, names = mailbox
    query, seen, cursor = parse_query(""), [], None
    for _ in range(10):
        page = await provider.search_page(query, 3, cursor, now=NOW, zone=UTC)
        seen += [hit.id for hit in page.messages]
        if (cursor := page.next_cursor) is None:
            break
    everything = await provider.search_page(query, 500, now=NOW, zone=UTC)
    assert seen == [hit.id for hit in everything.messages] and {names[id] for id in seen} == DEFAULT
    dates = [hit.date for hit in everything.messages]
    assert dates == sorted(dates, reverse=True) and everything.next_cursor is None


async def test_a_cursor_keeps_the_first_pages_clock(mailbox) -> None:
    provider, names = mailbox
    query = parse_query("newer_than:2d")
    first = await provider.search_page(query, 1, now=NOW, zone=UTC)
    later = await provider.search_page(query, 500, first.next_cursor, now=NOW + timedelta(days=30), zone=UTC)
    assert [names[h.id] for h in first.messages + later.messages] == ["rene", "dana", "draft"]


async def test_a_cursor_of_another_query_or_garbage_is_refused(mailbox) -> None:
    provider, _ = mailbox
    page = await provider.search_page(parse_query("in:inbox"), 2, now=NOW, zone=UTC)
    with pytest.raises(QueryError, match="belongs to another query"):
        await provider.search_page(parse_query("is:unread"), 2, page.next_cursor, now=NOW, zone=UTC)
    with pytest.raises(QueryError, match="cursor is malformed"):
        await provider.search_page(parse_query("in:inbox"), 2, "not-a-cursor", now=NOW, zone=UTC)
    with pytest.raises(QueryError, match="1 to 500 messages"):
        await provider.search_page(parse_query("in:inbox"), 501, now=NOW, zone=UTC)


async def test_search_tool_pages_with_next_cursor_and_names_bad_terms(tmp_path: Path) -> None:
    write_corpus(tmp_path / "Mail")
    settings = GmailSettings(
        maildir=tmp_path / "Mail", state_dir=tmp_path / "state", from_address="me@home.example"
    )
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    async with Client(build_server(settings, provider)) as client:
        first = (
            await client.call_tool("search_messages", {"query": "from:dana OR from:priya", "limit": 2})
        ).data
        assert len(first.messages) == 2 and first.next_cursor
        arguments = {"query": "from:dana OR from:priya", "limit": 2, "cursor": first.next_cursor}
        rest = (await client.call_tool("search_messages", arguments)).data
        assert len(rest.messages) == 1 and rest.next_cursor is None
        mine = (await client.call_tool("search_messages", {"query": "from:me"})).data
        assert {m.subject for m in mine.messages} == {"Re: Lunch on Thursday?", "Draft plan"}
        with pytest.raises(ToolError, match="is:snoozed cannot be searched here"):
            await client.call_tool("search_messages", {"query": "is:snoozed"})


def _downgrade(index: Path, root: Path) -> None:
    """Rewrite `index` as the previous version wrote it: the same rows, messages without the
    schema-2 columns, `search_text` as it was computed then, no FTS and no label table."""
    new = sqlite3.connect(index)
    meta, changes = (
        new.execute("SELECT * FROM meta").fetchall(),
        new.execute("SELECT seq, kind, message_id, labels, error FROM changes").fetchall(),
    )
    rows = new.execute(
        "SELECT id, folder, path, flags, extra_labels, thread_id, date, summary, has_attachment, error FROM messages"
    ).fetchall()
    new.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    old = sqlite3.connect(index)
    old.executescript(SCHEMA_1)
    old.executemany("INSERT INTO meta VALUES (?, ?)", meta)
    old.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?)", changes)
    for id, folder, path, flags, extra, thread, date, summary, attached, error in rows:
        message = parse_file(Path(path), id=id, labels=[])
        sender = message.from_.formatted() if message.from_ else ""
        recipients = " ".join(a.formatted() for a in message.to + message.cc)
        text = "\n".join([sender, recipients, message.subject, message.text]).lower()
        old.execute("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (id, folder, path, flags, extra, thread, date, summary, text, attached, error))  # fmt: skip
    old.commit()
    old.close()


async def test_an_index_of_the_previous_format_is_upgraded_in_place(tmp_path: Path) -> None:
    root, state = tmp_path / "Mail", tmp_path / "state"
    keys = write_corpus(root)
    first = MaildirProvider(root, state)
    await first.open()
    await first.modify_labels(keys["carol"], ["My Projects"], [])
    feed = await first.list_changes(None, 1000)
    await first.aclose()
    (index,) = state.glob("*.sqlite3")
    _downgrade(index, root)

    upgraded = MaildirProvider(root, state)
    await upgraded.open()
    try:
        names = {key: name for name, key in keys.items()}
        after = await upgraded.list_changes(feed.cursor, 1000)
        assert after.changes == [] and after.cursor == feed.cursor  # same journal: readers resume
        for text, expected in [("cc:dana", {"priya"}), ("bcc:boss", {"sent"}), ("filename:pdf", {"bob"}),
                               ("larger:1M", {"photos"}), ("label:my-projects", {"carol"}),
                               ("from:dana OR from:priya", {"dana", "priya", "photos"}), ("cafe", {"rene"})]:  # fmt: skip
            hits = await upgraded.search_page(parse_query(text), 50, now=NOW, zone=UTC)
            assert {names[h.id] for h in hits.messages} == expected, text
    finally:
        await upgraded.aclose()
    db = sqlite3.connect(index)
    assert db.execute("SELECT COUNT(*) FROM messages WHERE fields_version < 2").fetchone() == (0,)
    db.close()


PIECES = [
    *'abcé日 :-"(){}*@.\x00',
    "from:",
    "is:",
    "label:",
    "larger:",
    "after:",
    "OR ",
    "AND ",
    "AROUND 2 ",
    "in:spam ",
]


def test_any_text_is_run_or_refused_with_a_query_error(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "fuzz.sqlite3")
    for n, (_, _, message) in enumerate(CORPUS.values()):
        parsed = parse_message(bytes(message), id=f"m{n}", labels=["INBOX"])
        journal.upsert(IndexRow.of_message(parsed, "", f"/m{n}", ""))
        journal.append("added", parsed.id, ["INBOX"])

    @settings(max_examples=300, deadline=None)
    @given(text=st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
    def run_or_refuse(text: str) -> None:
        try:
            plan = plan_search(parse_query(text), now=NOW, zone=UTC, me=ME, limit=10, cursor=None)
        except QueryError:
            return
        journal.search(plan)  # FTS5 accepts every expression the compiler writes

    try:
        run_or_refuse()
    finally:
        journal.close()
