"""Namespaces left out of the lexical index (`unindexed_namespaces`, default `raw.email`): their text
is kept and found by meaning, never by keyword; an older file's index loses their rows when it opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.search import unindexed_note
from mcp_servers.context_store.server import build_server
from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.store import ContextStore

from .conftest import HashingEmbedder

MAIL = ("raw.email",)

# The FTS triggers of the previous format: every item's text indexed, whatever its namespace.
PREVIOUS_TRIGGERS = """
CREATE TRIGGER items_fts_insert AFTER INSERT ON items WHEN new.text IS NOT NULL BEGIN
    INSERT INTO items_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items WHEN old.text IS NOT NULL BEGIN
    INSERT INTO items_fts (items_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER items_fts_unindex AFTER UPDATE OF text ON items WHEN old.text IS NOT NULL BEGIN
    INSERT INTO items_fts (items_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER items_fts_reindex AFTER UPDATE OF text ON items WHEN new.text IS NOT NULL BEGIN
    INSERT INTO items_fts (rowid, text) VALUES (new.rowid, new.text);
END;
"""


def embed_all(store: Any) -> None:
    while store.embed_pending(batch=1000):
        pass


def ids(hits: list[Any]) -> list[str]:
    return sorted(f"{hit.item.namespace}/{hit.item.id}" for hit in hits)


def test_unindexed_text_is_found_by_meaning_not_by_keyword(open_backend: Any) -> None:
    store = open_backend(embedder=HashingEmbedder(), unindexed_namespaces=MAIL)
    store.store_many(
        [
            ItemInput(namespace="raw.email", id="m1", text="quarterly budget review with dana"),
            ItemInput(namespace="notes", id="n1", text="quarterly budget review"),
        ]
    )
    embed_all(store)
    assert ids(store.search("budget review", mode="lexical")) == ["notes/n1"]
    assert store.search("budget", mode="lexical", namespaces=["raw.*"]) == []
    assert ids(store.search("budget review", mode="hybrid")) == ["notes/n1", "raw.email/m1"]
    assert store.get("raw.email", "m1").text == "quarterly budget review with dana"
    # Updates and deletes of an unindexed item leave the index whole.
    store.store(ItemInput(namespace="raw.email", id="m1", text="lunch with priya"))
    store.store(ItemInput(namespace="notes", id="n1", text="lunch notes"))
    store.delete("raw.email", "m1")
    assert ids(store.search("lunch", mode="lexical")) == ["notes/n1"]


@pytest.mark.sqlite_only
def test_a_previous_format_file_drops_mail_from_its_index_at_open(db_path: Path) -> None:
    ContextStore.open(db_path).close()  # the tables, then the previous format's triggers instead of ours
    with sqlite3.connect(db_path) as connection:
        for name in ("insert", "delete", "update"):
            connection.execute(f"DROP TRIGGER items_fts_{name}")
        connection.execute("DROP TABLE unindexed_namespaces")
        connection.executescript(PREVIOUS_TRIGGERS)
        connection.executemany(
            "INSERT INTO items (namespace, id, data, text, tags, metadata, created_at, updated_at) "
            "VALUES (?, ?, 'null', ?, '[]', '{}', 1, 1)",
            [("raw.email", f"m{i}", f"invoice {i} from dana") for i in range(50)]
            + [("notes", "n1", "invoice to pay")],
        )
    assert fts_rows(db_path, "invoice") == 51

    store = ContextStore.open(db_path, unindexed_namespaces=MAIL)
    assert fts_rows(db_path, "invoice") == 1
    assert ids(store.search("invoice", mode="lexical", limit=100)) == ["notes/n1"]
    store.delete("raw.email", "m3")  # a row already out of the index is deleted without harm
    store.close()
    assert fts_check(db_path)

    store = ContextStore.open(db_path)  # the rule undone: mail back in the index
    assert len(store.search("invoice", mode="lexical", limit=100)) == 50
    store.close()
    assert fts_check(db_path)


def fts_rows(db_path: Path, word: str) -> int:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(
            "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (word,)
        ).fetchone()[0]


def fts_check(db_path: Path) -> bool:
    with sqlite3.connect(db_path) as connection:
        connection.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")
    return True


def test_the_setting_defaults_to_mail_and_reads_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PEPPER_CONTEXT_UNINDEXED_NAMESPACES", raising=False)
    assert ContextStoreSettings().unindexed_namespaces == ("raw.email",)
    monkeypatch.setenv("PEPPER_CONTEXT_UNINDEXED_NAMESPACES", "raw.email, raw.slack")
    assert ContextStoreSettings().unindexed_namespaces == ("raw.email", "raw.slack")
    monkeypatch.setenv("PEPPER_CONTEXT_UNINDEXED_NAMESPACES", "")
    assert ContextStoreSettings().unindexed_namespaces == ()


def test_a_search_that_cannot_see_mail_by_keyword_says_so_in_words() -> None:
    lexical = unindexed_note("lexical", ["raw.email"], MAIL)
    assert lexical is not None and "gmail server's search_messages" in lexical
    assert unindexed_note("lexical", [], MAIL) == lexical  # no filter: every namespace, mail too
    assert "by meaning only" in (unindexed_note("hybrid", ["raw.*"], MAIL) or "")
    assert unindexed_note("lexical", ["notes"], MAIL) is None
    assert unindexed_note("semantic", ["raw.email"], MAIL) is None


@pytest.mark.anyio
async def test_the_search_tool_says_where_keyword_search_of_mail_is_answered(
    settings: ContextStoreSettings,
) -> None:
    """The server's default settings leave raw.email out of the keyword index, on either backend."""
    async with Client(build_server(settings)) as client:
        await client.call_tool("store", {"namespace": "raw.email", "id": "m1", "text": "invoice from dana"})
        await client.call_tool("store", {"namespace": "notes", "id": "n1", "text": "invoice to pay"})
        result = await client.call_tool("search", {"text": "invoice", "mode": "lexical"})
        assert [hit["item"]["id"] for hit in result.structured_content["hits"]] == ["n1"]
        assert "gmail server's search_messages" in result.structured_content["note"]
        result = await client.call_tool(
            "search", {"text": "invoice", "mode": "lexical", "namespaces": ["notes"]}
        )
        assert result.structured_content["note"] is None
