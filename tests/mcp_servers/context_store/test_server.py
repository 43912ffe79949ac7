"""The MCP surface in memory: tools, resources, errors, and subscriptions in both protocol eras."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.client.subscriptions import listen

from mcp_servers.context_store import server as server_module
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.server import build_server
from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.store import ContextStore

from .conftest import HashingEmbedder
from .helpers import UpdateRecorder, legacy_subscribe

pytestmark = pytest.mark.anyio

SIGNALS = "context://namespace/signals.*"


async def test_tools_are_listed_with_annotations(settings: ContextStoreSettings) -> None:
    async with Client(build_server(settings)) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == {
        "store", "store_many", "get", "get_many", "query", "search", "delete", "read_events", "ack"
    }  # fmt: skip
    assert tools["get"].annotations.read_only_hint is True
    assert tools["delete"].annotations.destructive_hint is True


async def test_get_many_reads_items_in_the_order_asked_and_leaves_out_missing_ids(
    settings: ContextStoreSettings,
) -> None:
    async with Client(build_server(settings)) as client:
        items = [{"namespace": "raw.email", "id": f"m{i}", "data": {"n": i}} for i in range(3)]
        await client.call_tool("store_many", {"items": items})
        got = await client.call_tool(
            "get_many", {"namespace": "raw.email", "ids": ["m2", "gone", "m0", "m2"]}
        )
        too_many = await client.call_tool(
            "get_many", {"namespace": "raw.email", "ids": [str(i) for i in range(1001)]}, raise_on_error=False
        )
    assert [(item["id"], item["data"]) for item in got.structured_content["items"]] == [
        ("m2", {"n": 2}),
        ("m0", {"n": 0}),
    ]
    assert too_many.is_error and "1 to 1,000 items" in too_many.content[0].text


async def test_read_events_with_items_brings_what_the_page_stored_as_it_is_now(
    settings: ContextStoreSettings,
) -> None:
    """A follower reads a page and its items in one call: each stored item once, in its newest
    version, one deleted since left out; events that are not stores bring none."""
    async with Client(build_server(settings)) as client:
        stored = [
            {"namespace": "raw.email", "id": f"m{i}", "data": {"n": i}, "text": f"t{i}"} for i in range(3)
        ]
        await client.call_tool("store_many", {"items": stored})
        await client.call_tool("store", {"namespace": "raw.email", "id": "m1", "data": {"n": 10}})
        await client.call_tool("store", {"namespace": "signals.email", "id": "m0", "data": {"s": 0}})
        await client.call_tool("delete", {"namespace": "raw.email", "id": "m2"})
        page = (await client.call_tool("read_events", {"after": 0, "with_items": True})).structured_content
        plain = (await client.call_tool("read_events", {"after": 0})).structured_content
        filtered = await client.call_tool(
            "read_events", {"after": 0, "namespaces": ["signals.*"], "with_items": True}
        )
    assert [(e["namespace"], e["id"], e["op"]) for e in page["events"]] == [
        ("raw.email", "m0", "store"), ("raw.email", "m1", "store"), ("raw.email", "m2", "store"),
        ("raw.email", "m1", "store"), ("signals.email", "m0", "store"), ("raw.email", "m2", "delete"),
    ]  # fmt: skip
    assert [(i["namespace"], i["id"], i["data"]) for i in page["items"]] == [
        ("raw.email", "m0", {"n": 0}), ("raw.email", "m1", {"n": 10}), ("signals.email", "m0", {"s": 0}),
    ]  # fmt: skip
    assert page["items"][0]["text"] == "t0"
    assert plain["events"] == page["events"] and plain["items"] == []
    assert [i["id"] for i in filtered.structured_content["items"]] == ["m0"]


async def test_read_events_item_fields_keep_only_those_keys_and_no_text(
    settings: ContextStoreSettings,
) -> None:
    """A follower that needs only some of each item (mail headers, not bodies) gets a light page:
    the named keys of the data that exist, no text; data that is not an object comes as it is;
    a bad field list is refused with a sentence that names the argument."""
    async with Client(build_server(settings)) as client:
        mail = {"id": "m0", "from": {"email": "a@example.org"}, "subject": "Hi", "body": "x" * 5000}
        await client.call_tool(
            "store_many",
            {"items": [
                {"namespace": "raw.email", "id": "m0", "data": mail, "text": "x" * 5000},
                {"namespace": "raw.email", "id": "m1", "data": [1, 2], "text": "list"},
            ]},
        )  # fmt: skip
        page = (
            await client.call_tool(
                "read_events", {"after": 0, "with_items": True, "item_fields": ["id", "from", "date"]}
            )
        ).structured_content
        whole = (await client.call_tool("read_events", {"after": 0, "with_items": True})).structured_content
        refused = await client.call_tool(
            "read_events", {"after": 0, "with_items": True, "item_fields": ["k"] * 65}, raise_on_error=False
        )
    assert [(i["id"], i["data"], i["text"]) for i in page["items"]] == [
        ("m0", {"id": "m0", "from": {"email": "a@example.org"}}, None), ("m1", [1, 2], None),
    ]  # fmt: skip
    assert whole["items"][0]["data"] == mail and whole["items"][0]["text"] == "x" * 5000
    assert refused.is_error and "item_fields" in refused.content[0].text


async def test_store_get_query_delete_round_trip(settings: ContextStoreSettings) -> None:
    async with Client(build_server(settings)) as client:
        stored = await client.call_tool(
            "store", {"namespace": "notes", "id": "a", "data": {"x": 1}, "tags": ["t"]}
        )
        assert stored.structured_content == {"namespace": "notes", "id": "a", "seq": 1}
        got = await client.call_tool("get", {"namespace": "notes", "id": "a"})
        assert got.structured_content["data"] == {"x": 1}
        batch = await client.call_tool(
            "store_many", {"items": [{"namespace": "notes", "data": i} for i in range(3)]}
        )
        assert batch.structured_content["count"] == 3 and batch.structured_content["last_seq"] == 4
        assert len(batch.structured_content["generated_ids"]) == 3
        listed = await client.call_tool("query", {"namespaces": ["no*"], "tags": ["t"]})
        assert [item["id"] for item in listed.structured_content["items"]] == ["a"]
        await client.call_tool("delete", {"namespace": "notes", "id": "a"})
        page = await client.call_tool("read_events", {"after": 4})
        assert [(e["id"], e["op"]) for e in page.structured_content["events"]] == [("a", "delete")]


async def test_consumer_cursor_through_tools(settings: ContextStoreSettings) -> None:
    async with Client(build_server(settings)) as client:
        await client.call_tool("store_many", {"items": [{"namespace": "n", "data": i} for i in range(3)]})
        acked = await client.call_tool("ack", {"consumer": "feeds", "seq": 2})
        assert acked.structured_content == {"consumer": "feeds", "seq": 2}
        page = await client.call_tool("read_events", {"consumer": "feeds"})
        assert [e["seq"] for e in page.structured_content["events"]] == [3]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("store", {"namespace": "Not Valid", "data": 1}, "invalid namespace 'Not Valid'"),
        ("query", {"namespaces": ["sig nals"]}, "invalid namespace pattern"),
        ("get", {"namespace": "notes", "id": "missing"}, "no item 'missing' in namespace 'notes'"),
        ("delete", {"namespace": "notes", "id": "missing"}, "nothing was deleted"),
        ("store", {"namespace": "n", "text": "x" * 2_000_000}, "may hold at most 1048576 bytes"),
        ("search", {"text": "anything", "mode": "semantic"}, "semantic search is off"),
        ("ack", {"consumer": "c", "seq": 99}, "cannot ack seq 99"),
    ],
)
async def test_bad_input_gets_a_clear_tool_error(
    settings: ContextStoreSettings, tool: str, arguments: dict, message: str
) -> None:
    async with Client(build_server(settings)) as client:
        with pytest.raises(ToolError, match=message):
            await client.call_tool(tool, arguments)


async def test_resources_return_items_as_json(settings: ContextStoreSettings) -> None:
    async with Client(build_server(settings)) as client:
        await client.call_tool("store", {"namespace": "signals.email", "id": "a/b", "data": 1})
        await client.call_tool("store", {"namespace": "raw.email", "id": "c", "data": 2})
        [item] = await client.read_resource("context://item/signals.email/a%2Fb")
        assert '"id":"a/b"' in item.text
        [listing] = await client.read_resource(SIGNALS)
        assert '"signals.email"' in listing.text and '"raw.email"' not in listing.text


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("context://item/Bad/x", "invalid namespace 'Bad'"),
        ("context://item/notes/missing", "no item 'missing'"),
        ("context://namespace/sig%20nals", "invalid namespace pattern"),
        ("context://elsewhere/x", "Unknown resource: context://elsewhere/x"),
    ],
)
async def test_malformed_resource_uri_gets_a_clear_error(
    settings: ContextStoreSettings, uri: str, message: str
) -> None:
    async with Client(build_server(settings)) as client:
        with pytest.raises(Exception, match=message):
            await client.read_resource(uri)


async def test_subscribe_capability_is_advertised_in_both_eras(settings: ContextStoreSettings) -> None:
    server = build_server(settings)
    async with Client(server, mode="legacy") as legacy:
        assert legacy.initialize_result.capabilities.resources.subscribe is True
    async with Client(server) as modern:
        assert modern.session.protocol_version == "2026-07-28"
        assert modern.session.server_capabilities.resources.subscribe is True


async def test_legacy_subscriber_is_notified_on_matching_writes_only(settings: ContextStoreSettings) -> None:
    recorder = UpdateRecorder()
    async with Client(build_server(settings), mode="legacy", message_handler=recorder) as client:
        await legacy_subscribe(client, SIGNALS)
        await legacy_subscribe(client, "context://item/raw.email/m1")
        await client.call_tool("store", {"namespace": "raw.calendar", "data": 1})
        await client.call_tool("store", {"namespace": "signals.email", "data": 1})
        assert await recorder.wait_for(1) == [SIGNALS]
        await client.call_tool("store", {"namespace": "raw.email", "id": "m1", "data": 1})
        assert await recorder.wait_for(2) == [SIGNALS, "context://item/raw.email/m1"]


async def test_modern_listener_is_notified_on_matching_writes_only(settings: ContextStoreSettings) -> None:
    async with Client(build_server(settings)) as client:
        async with listen(client.session, resource_subscriptions=[SIGNALS]) as updates:
            await client.call_tool("store", {"namespace": "raw.calendar", "data": 1})
            await client.call_tool("delete", {"namespace": "raw.calendar", "id": (await first_id(client))})
            await client.call_tool("store", {"namespace": "signals.calendar", "data": 1})
            with anyio.fail_after(10):
                event = await updates.__anext__()
            assert event.uri == SIGNALS
            # Only the matching write woke us: the log holds 3 events, one of them in signals.*
            page = await client.call_tool("read_events", {"namespaces": ["signals.*"]})
            assert len(page.structured_content["events"]) == 1


async def first_id(client: Client) -> str:
    listed = await client.call_tool("query", {"namespaces": ["raw.*"]})
    return listed.structured_content["items"][0]["id"]


async def test_writes_by_another_connection_reach_subscribers(
    settings: ContextStoreSettings, open_backend
) -> None:
    recorder = UpdateRecorder()
    other_writer = open_backend()  # the same file, or the same PostgreSQL tenant
    async with Client(build_server(settings), mode="legacy", message_handler=recorder) as client:
        await legacy_subscribe(client, SIGNALS)
        await anyio.to_thread.run_sync(other_writer.store, ItemInput(namespace="signals.email", data=1))
        with anyio.fail_after(2):  # well before the notifier's 5 s safety read: the commit watcher woke it
            assert await recorder.wait_for(1) == [SIGNALS]


async def test_semantic_search_through_the_tool_sees_just_written_items(db_path) -> None:
    store = ContextStore.open(db_path, embedder=HashingEmbedder())
    settings = ContextStoreSettings(db_path=db_path, embedder="none")
    async with Client(build_server(settings, store=store)) as client:
        await client.call_tool("store", {"namespace": "notes", "id": "cat", "text": "the cat sat on the mat"})
        await client.call_tool("store", {"namespace": "notes", "id": "dog", "text": "a dog barked loudly"})
        result = await client.call_tool("search", {"text": "cat mat", "mode": "semantic", "limit": 1})
    assert result.structured_content["pending_embeddings"] == 0
    assert [hit["item"]["id"] for hit in result.structured_content["hits"]] == ["cat"]
    store.close()


async def test_background_maintenance_purges_expired_items(settings: ContextStoreSettings, db_path) -> None:
    async with Client(build_server(settings)) as client:
        await client.call_tool("store", {"namespace": "n", "id": "short", "data": 1, "ttl_seconds": 0.05})
        with anyio.fail_after(10):
            while True:
                page = await client.call_tool("read_events", {"after": 1})
                if page.structured_content["events"]:
                    break
                await anyio.sleep(0.05)  # polling the log: the purge offers nothing else to wait on
    assert page.structured_content["events"][0]["op"] == "expire"


class BrokenEmbedder(HashingEmbedder):
    """An embedder whose model fails to load on first use, as a missing package would."""

    def embed_documents(self, texts):  # type: ignore[override]
        raise RuntimeError("model files are missing")

    def embed_query(self, text):  # type: ignore[override]
        raise RuntimeError("model files are missing")


async def test_broken_embedder_leaves_writes_and_lexical_search_working(db_path) -> None:
    store = ContextStore.open(db_path, embedder=BrokenEmbedder())
    settings = ContextStoreSettings(db_path=db_path, embedder="none")
    async with Client(build_server(settings, store=store)) as client:
        await client.call_tool("store", {"namespace": "notes", "id": "a", "text": "still searchable"})
        lexical = await client.call_tool("search", {"text": "searchable", "mode": "lexical"})
        assert [hit["item"]["id"] for hit in lexical.structured_content["hits"]] == ["a"]
        with pytest.raises(
            ToolError, match="could not embed the query .model files are missing.; use mode='lexical'"
        ):
            await client.call_tool("search", {"text": "searchable", "mode": "semantic"})
    store.close()


class GatedEmbedder(HashingEmbedder):
    """Embeds documents only once the test opens the gate, as a slow model would; queries at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def embed_documents(self, texts):  # type: ignore[override]
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return super().embed_documents(texts)


async def test_search_does_not_wait_for_a_slow_embedder_beyond_its_catch_up_time(
    db_path, monkeypatch
) -> None:
    monkeypatch.setattr(server_module, "SEARCH_CATCH_UP_SECONDS", 0.3)
    embedder = GatedEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    settings = ContextStoreSettings(db_path=db_path, embedder="none")
    async with Client(build_server(settings, store=store)) as client:
        with anyio.fail_after(5):  # writes never wait for the embedder
            await client.call_tool("store", {"namespace": "notes", "id": "a", "text": "slow to embed"})
        with anyio.fail_after(5):
            result = await client.call_tool("search", {"text": "slow to embed", "mode": "semantic"})
        assert result.structured_content == {
            "mode": "semantic",
            "hits": [],
            "pending_embeddings": 1,
            "note": None,
        }
        embedder.gate.set()
        result = await client.call_tool("search", {"text": "slow to embed", "mode": "semantic"})
        assert [hit["item"]["id"] for hit in result.structured_content["hits"]] == ["a"]
    store.close()


@pytest.mark.parametrize(
    ("tool", "arguments", "problem"),
    [
        ("read_events", {"after": 2**63}, "of at most 9,223,372,036,854,775,807"),
        ("ack", {"consumer": "feeds.email", "seq": 2**63}, "of at most 9,223,372,036,854,775,807"),
        ("query", {"namespaces": ["signals.*"] * 1000}, "at most 32 items"),
        ("read_events", {"namespaces": ["signals.*"] * 33}, "at most 32 items"),
        ("search", {"text": "x", "mode": "lexical", "tags": ["a"] * 33}, "at most 32 items"),
    ],
)
async def test_seqs_past_sqlite_integers_and_too_many_filters_are_refused_in_words(
    settings: ContextStoreSettings, tool: str, arguments: dict, problem: str
) -> None:
    async with Client(build_server(settings)) as client:
        with pytest.raises(ToolError, match=problem):
            await client.call_tool(tool, arguments)
        assert (await client.call_tool("query", {"limit": 1})).structured_content == {"items": []}


@pytest.mark.parametrize(
    "expiry",
    [
        {"ttl_seconds": 1e16},
        {"expires_at": "9999-12-31T23:59:00-12:00"},
        {"expires_at": "0001-01-01T00:00:00Z"},
    ],
)
async def test_an_expiry_past_the_calendar_is_refused_and_reads_keep_working(
    settings: ContextStoreSettings, expiry: dict
) -> None:
    async with Client(build_server(settings)) as client:
        with pytest.raises(ToolError, match="from 0 to 3,162,240,000|edge of the calendar"):
            await client.call_tool("store", {"namespace": "n", "id": "a", **expiry})
        with pytest.raises(ToolError, match="from 0 to 3,162,240,000|edge of the calendar"):
            await client.call_tool("store_many", {"items": [{"namespace": "n", "id": "b", **expiry}]})
        assert (await client.call_tool("query", {"limit": 1})).structured_content == {"items": []}


async def test_the_database_is_closed_completely_each_time_a_client_leaves(
    settings: ContextStoreSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK cancels an in-memory session, lifespan and all, as its client leaves: the close of
    the storage must run to its end anyway (it was cut off at its first await, leaking sockets)."""
    closed: list[bool] = []
    opened = server_module.open_storage

    async def opening(settings: ContextStoreSettings) -> Any:
        storage = await opened(settings)
        close = storage.aclose

        async def aclose() -> None:
            await close()
            closed.append(True)

        storage.aclose = aclose
        return storage

    monkeypatch.setattr(server_module, "open_storage", opening)
    server = build_server(settings)
    for _ in range(2):
        async with Client(server) as client:
            await client.call_tool("store", {"namespace": "n", "data": 1})
    assert closed == [True, True]
