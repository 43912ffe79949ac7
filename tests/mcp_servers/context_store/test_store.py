"""ContextStore: items, upserts, expiry, limits and the agreement of items with the event log."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from mcp_servers.context_store.errors import InvalidInput, NotFound
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.search import item_filter
from mcp_servers.context_store.store import ContextStore, Limits


def test_store_then_get_returns_the_item(store: ContextStore) -> None:
    written = store.store(
        ItemInput(namespace="raw.email", id="m1", data={"subject": "hi"}, text="hello", tags=["b", "a"])
    )
    item = store.get("raw.email", "m1")
    assert (written.id, written.seq) == ("m1", 1)
    assert (item.data, item.text, item.tags) == ({"subject": "hi"}, "hello", ["a", "b"])
    assert item.created_at == item.updated_at


def test_store_generates_an_id_when_absent(store: ContextStore) -> None:
    written = store.store(ItemInput(namespace="notes", data=1))
    assert len(written.id) == 36
    assert store.get("notes", written.id).data == 1


def test_store_upserts_keeping_created_at(store: ContextStore) -> None:
    store.store(ItemInput(namespace="notes", id="n", data=1))
    first = store.get("notes", "n")
    store.store(ItemInput(namespace="notes", id="n", data=2))
    second = store.get("notes", "n")
    assert second.data == 2
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at
    assert store.count() == (1, 2)


@pytest.mark.parametrize("namespace", ["", "Upper", "a..b", ".a", "a.", "a b", "a/b", "a.*"])
def test_store_rejects_invalid_namespace(store: ContextStore, namespace: str) -> None:
    with pytest.raises(InvalidInput, match="invalid namespace"):
        store.store(ItemInput(namespace=namespace, data=1))


def test_store_rejects_oversized_item_with_the_limit_in_the_message() -> None:
    store = ContextStore.open(":memory:", limits=Limits(max_item_bytes=1000))
    store.store(ItemInput(namespace="n", text="x" * 900))
    with pytest.raises(InvalidInput, match="at most 1000 bytes"):
        store.store(ItemInput(namespace="n", text="x" * 1001))


@pytest.mark.parametrize("data", [math.nan, {"x": math.inf}, [1, -math.inf]])
def test_store_rejects_non_json_data(store: ContextStore, data: object) -> None:
    with pytest.raises(InvalidInput, match="data is not JSON"):
        store.store(ItemInput(namespace="n", data=data))


def test_store_many_stores_nothing_when_one_item_is_invalid(store: ContextStore) -> None:
    batch = [ItemInput(namespace="n", id=str(i), data=i) for i in range(5)] + [ItemInput(namespace="BAD")]
    with pytest.raises(InvalidInput):
        store.store_many(batch)
    assert store.count() == (0, 0)


def test_store_many_rejects_a_batch_over_the_limit() -> None:
    store = ContextStore.open(":memory:", limits=Limits(max_batch_items=3))
    with pytest.raises(InvalidInput, match="at most 3 per call"):
        store.store_many([ItemInput(namespace="n", data=i) for i in range(4)])


def test_store_rejects_ttl_and_expires_at_together(store: ContextStore) -> None:
    with pytest.raises(InvalidInput, match="not both"):
        store.store(ItemInput(namespace="n", ttl_seconds=5, expires_at=datetime.now(UTC)))


def test_get_raises_not_found_for_unknown_id(store: ContextStore) -> None:
    with pytest.raises(NotFound, match="no item 'nope' in namespace 'n'"):
        store.get("n", "nope")


def test_expired_item_vanishes_from_reads_before_purge(store: ContextStore) -> None:
    store.store(
        ItemInput(
            namespace="n", id="old", text="stale words", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    )
    store.store(ItemInput(namespace="n", id="live", text="stale words", ttl_seconds=3600))
    with pytest.raises(NotFound):
        store.get("n", "old")
    assert [item.id for item in store.query(["n"])] == ["live"]
    assert [hit.item.id for hit in store.search("stale", mode="lexical")] == ["live"]
    with pytest.raises(NotFound):
        store.delete("n", "old")


def test_purge_expired_deletes_items_and_logs_expire_events(store: ContextStore) -> None:
    store.store(ItemInput(namespace="n", id="a", data=1, ttl_seconds=10))
    store.store(ItemInput(namespace="n", id="b", data=1))
    assert store.purge_expired(now=time.time() + 11) == 1
    ops = [(event.id, event.op) for event in store.read_events(0).events]
    assert ops == [("a", "store"), ("b", "store"), ("a", "expire")]
    assert store.count() == (1, 3)


def test_upsert_of_an_expired_item_starts_a_new_life(store: ContextStore) -> None:
    store.store(ItemInput(namespace="n", id="a", data=1, expires_at=datetime.now(UTC) - timedelta(days=1)))
    before = time.time()
    store.store(ItemInput(namespace="n", id="a", data=2))
    item = store.get("n", "a")
    assert item.expires_at is None
    assert item.created_at.timestamp() >= before


def test_delete_removes_item_and_logs_event(store: ContextStore) -> None:
    store.store(ItemInput(namespace="n", id="a", text="gone soon"))
    written = store.delete("n", "a")
    assert written.seq == 2
    with pytest.raises(NotFound):
        store.get("n", "a")
    assert store.search("gone", mode="lexical") == []
    with pytest.raises(NotFound, match="nothing was deleted"):
        store.delete("n", "a")


def test_query_filters_by_glob_tags_and_time_newest_first(store: ContextStore) -> None:
    store.store(ItemInput(namespace="signals.email", id="1", tags=["urgent"]))
    store.store(ItemInput(namespace="signals.calendar", id="2"))
    store.store(ItemInput(namespace="raw.email", id="3", tags=["urgent"]))
    middle = store.get("signals.calendar", "2").updated_at
    store.store(ItemInput(namespace="signals.email", id="4", tags=["urgent", "vip"]))
    assert [i.id for i in store.query(["signals.*"])] == ["4", "2", "1"]
    assert [i.id for i in store.query(tags=["urgent"])] == ["4", "3", "1"]
    assert [i.id for i in store.query(tags=["urgent", "vip"])] == ["4"]
    assert [i.id for i in store.query(["signals.*", "raw.*"], since=middle)] == ["4", "3", "2"]
    assert [i.id for i in store.query(until=middle)] == ["1"]
    assert [i.id for i in store.query(limit=2)] == ["4", "3"]


def test_query_by_exact_namespaces_and_globs_together(store: ContextStore) -> None:
    """A name without a wildcard matches that namespace only, alone, repeated or beside globs."""
    for n, namespace in enumerate(["a.b", "a.c", "a.bc", "a.b", "b.b"]):
        store.store(ItemInput(namespace=namespace, id=str(n)))

    def ids(namespaces: list[str]) -> list[str]:
        return [item.id for item in store.query(namespaces)]

    assert ids(["a.b"]) == ["3", "0"]
    assert ids(["a.b", "a.c"]) == ["3", "1", "0"]
    assert ids(["a.b", "a.b"]) == ["3", "0"]
    assert ids(["a.b?"]) == ["2"]
    assert ids(["a.c", "a.b?", "*.b"]) == ["4", "3", "2", "1", "0"]
    assert [event.id for event in store.read_events(0, ["a.c", "b.*"], 10).events] == ["1", "4"]


def test_a_query_of_one_namespace_reads_its_index_in_order_without_sorting(db_path) -> None:
    """The newest N of a namespace are read in the index's order and the read stops at N; a glob
    over the same namespace sorted every row it matched first, data and all."""
    store = ContextStore.open(db_path)
    try:
        where, params = item_filter(["signals.email"], [], None, None, time.time())
        with store._read() as db:
            plan = db.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM items WHERE {where} ORDER BY updated_at DESC, rowid DESC LIMIT 5",
                params,
            ).fetchall()
    finally:
        store.close()
    steps = " / ".join(row[-1] for row in plan)
    assert "items_by_namespace (namespace=?)" in steps and "TEMP B-TREE" not in steps


@pytest.mark.parametrize("pattern", ["Signals.*", "a b", "a/*", "[ab]", "a..*"])
def test_query_rejects_invalid_glob(store: ContextStore, pattern: str) -> None:
    with pytest.raises(InvalidInput, match="invalid namespace pattern"):
        store.query([pattern])


def test_query_rejects_limit_out_of_range(store: ContextStore) -> None:
    with pytest.raises(InvalidInput, match="limit 0 is out of range"):
        store.query(limit=0)


def test_store_survives_reopen_with_items_and_log(db_path) -> None:
    first = ContextStore.open(db_path)
    first.store_many([ItemInput(namespace="n", id=str(i), data=i) for i in range(3)])
    first.close()
    again = ContextStore.open(db_path)
    assert again.count() == (3, 3)
    assert again.get("n", "2").data == 2
    again.close()
