"""Bounded work: limits refused before any work, reads stopped at their deadline, and a long read that
holds neither the writer nor the other tools."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.context_store.errors import InvalidInput, QueryTimeout
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.server import build_server
from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.store import ContextStore, Limits

# Counts for ever: only a deadline ends it. started() says it runs (an interrupt before would be lost).
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def run_endlessly(db: object, started: threading.Event) -> None:
    db.create_function("started", 0, lambda: started.set() or 1)  # type: ignore[attr-defined]
    db.execute(ENDLESS).fetchone()  # type: ignore[attr-defined]


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["lexical", "semantic", "hybrid"])
async def test_a_million_character_search_is_refused_naming_the_limit(
    settings: ContextStoreSettings, mode: str
) -> None:
    async with Client(build_server(settings)) as client:
        with pytest.raises(ToolError, match="search text is 1,000,000 characters: the limit is 2,000"):
            await client.call_tool("search", {"text": "word " * 200_000, "mode": mode})
        await client.call_tool("store", {"namespace": "n", "text": "word"})
        hits = await client.call_tool("search", {"text": "word " * 400, "mode": "lexical"})
        assert len(hits.structured_content["hits"]) == 1


def test_json_nested_deeper_than_the_limit_is_refused(store: ContextStore) -> None:
    store.store(ItemInput(namespace="n", id="ok", data=nested(32)))
    with pytest.raises(InvalidInput, match="data is nested more than 32 levels deep"):
        store.store(ItemInput(namespace="n", data=nested(33)))
    with pytest.raises(InvalidInput, match="metadata is nested more than 32 levels deep"):
        store.store(ItemInput(namespace="n", metadata={"m": nested(32)}))


def test_filters_with_too_many_patterns_or_tags_are_refused(store: ContextStore) -> None:
    many = [f"n{i}" for i in range(33)]
    with pytest.raises(InvalidInput, match="33 namespace patterns in one filter: at most 32"):
        store.query(namespaces=many)
    with pytest.raises(InvalidInput, match="33 tags in one filter: at most 32"):
        store.search("x", mode="lexical", tags=many)
    with pytest.raises(InvalidInput, match="33 namespace patterns"):
        store.read_events(namespaces=many)


def test_a_read_is_stopped_at_its_deadline(db_path: Path) -> None:
    store = ContextStore.open(db_path, limits=Limits(query_seconds=0.2))
    with pytest.raises(QueryTimeout, match=r"took longer than 0.2 s and was stopped"):
        with store._read() as db:
            run_endlessly(db, threading.Event())
    store.store(ItemInput(namespace="n", id="a", text="still fine"))  # the connection serves again
    assert [hit.item.id for hit in store.search("fine", mode="lexical")] == ["a"]
    store.close()


def test_a_long_read_holds_up_neither_writes_nor_other_reads(db_path: Path) -> None:
    store = ContextStore.open(db_path, limits=Limits(query_seconds=30))
    started, outcome = threading.Event(), []

    def long_read() -> None:
        try:
            with store._read() as db:
                run_endlessly(db, started)
        except QueryTimeout as exc:
            outcome.append(exc)

    reader = threading.Thread(target=long_read)
    reader.start()
    assert started.wait(10)
    store.store(ItemInput(namespace="n", id="a", text="written meanwhile"))
    assert store.get("n", "a").text == "written meanwhile"
    assert reader.is_alive()  # the long read was still running all along
    store._database.readers.interrupt_all()
    reader.join(10)
    assert len(outcome) == 1
    store.close()


@pytest.mark.sqlite_only  # it serves a ContextStore it opened itself
@pytest.mark.anyio
async def test_tools_answer_while_a_long_read_runs(db_path: Path, settings: ContextStoreSettings) -> None:
    store = ContextStore.open(db_path, limits=Limits(query_seconds=30))
    started = threading.Event()

    def long_read() -> None:
        with pytest.raises(QueryTimeout), store._read() as db:
            run_endlessly(db, started)

    async with Client(build_server(settings, store)) as client, anyio.create_task_group() as tasks:
        tasks.start_soon(anyio.to_thread.run_sync, long_read)
        assert await anyio.to_thread.run_sync(started.wait, 10)
        with anyio.fail_after(5):
            await client.call_tool("store", {"namespace": "n", "id": "a", "text": "hello"})
            found = await client.call_tool("search", {"text": "hello", "mode": "lexical"})
        assert [hit["item"]["id"] for hit in found.structured_content["hits"]] == ["a"]
        store._database.readers.interrupt_all()
    store.close()
