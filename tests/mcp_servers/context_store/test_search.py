"""Search: lexical (FTS5), semantic (sqlite-vec) with true top-k under filters, hybrid, embedder changes."""

from __future__ import annotations

import random

import pytest

from mcp_servers.context_store import search
from mcp_servers.context_store.errors import InvalidInput, SemanticSearchOff
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.store import ContextStore

from .conftest import HashingEmbedder

WORDS = "apple banana cherry delta echo fox golf hotel india juliet kilo lima mike nova oscar papa".split()


def embed_all(store: ContextStore) -> None:
    while store.embed_pending(batch=1000):
        pass


def random_items(count: int, seed: int = 7) -> list[ItemInput]:
    chooser = random.Random(seed)
    return [
        ItemInput(
            namespace=chooser.choice(["bulk.a", "bulk.b", "bulk.c"]),
            id=str(i),
            text=" ".join(chooser.choices(WORDS, k=6)),
            tags=["even"] if i % 2 == 0 else [],
        )
        for i in range(count)
    ]


def exact_scores(store: ContextStore, query: str, items: list[ItemInput]) -> dict[str, float]:
    """Brute-force cosine similarity in Python: the ground truth for semantic search."""
    embedder = store.embedder
    assert embedder is not None
    wanted = embedder.embed_query(query)
    return {
        item.id: sum(a * b for a, b in zip(wanted, embedder.embed_query(item.text or ""), strict=True))
        for item in items
        if item.id is not None
    }


def assert_true_top_k(
    store: ContextStore, query: str, allowed: list[ItemInput], limit: int, **filters
) -> None:
    """The hits are allowed items whose scores are exactly the best `limit` scores (ties may reorder)."""
    truth = exact_scores(store, query, allowed)
    hits = store.search(query, mode="semantic", limit=limit, **filters)
    assert all(hit.item.id in truth for hit in hits)
    assert [round(hit.score, 5) for hit in hits] == [
        round(score, 5) for score in sorted(truth.values(), reverse=True)[:limit]
    ]


def test_lexical_search_ranks_by_bm25(store: ContextStore) -> None:
    store.store_many(
        [
            ItemInput(namespace="n", id="both", text="quarterly budget review meeting"),
            ItemInput(namespace="n", id="one", text="budget"),
            ItemInput(namespace="n", id="none", text="lunch plans"),
        ]
    )
    hits = store.search("budget review", mode="lexical")
    assert [hit.item.id for hit in hits] == ["both", "one"]
    assert hits[0].score > hits[1].score


def test_lexical_search_ignores_fts_syntax_in_the_query(store: ContextStore) -> None:
    store.store(ItemInput(namespace="n", id="a", text="NEAR the AND gate"))
    assert [hit.item.id for hit in store.search('"NEAR( AND* -', mode="lexical")] == ["a"]


def test_search_rejects_empty_text_and_unknown_mode(store: ContextStore) -> None:
    with pytest.raises(InvalidInput, match="search text is empty"):
        store.search("  ", mode="lexical")
    with pytest.raises(InvalidInput, match="unknown search mode"):
        store.search("x", mode="fuzzy")


def test_semantic_search_is_off_without_an_embedder(store: ContextStore) -> None:
    with pytest.raises(SemanticSearchOff, match="semantic search is off: no embedder is configured"):
        store.search("x", mode="semantic")
    with pytest.raises(SemanticSearchOff):
        store.search("x", mode="hybrid")


def test_semantic_search_finds_the_nearest_texts(semantic_store: ContextStore) -> None:
    semantic_store.store_many(
        [
            ItemInput(namespace="n", id="cat", text="the cat sat on the mat"),
            ItemInput(namespace="n", id="dog", text="a dog barked at the mailman"),
        ]
    )
    embed_all(semantic_store)
    hits = semantic_store.search("cat on a mat", mode="semantic", limit=2)
    assert [hit.item.id for hit in hits] == ["cat", "dog"]
    assert hits[0].score > hits[1].score


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"namespaces": ["bulk.b"]},
        {"tags": ["even"]},
        {"namespaces": ["bulk.a", "bulk.c"], "tags": ["even"]},
    ],
)
def test_semantic_search_returns_the_true_top_k_under_filters(
    semantic_store: ContextStore, filters: dict
) -> None:
    items = random_items(600)
    semantic_store.store_many(items)
    embed_all(semantic_store)
    allowed = [
        item
        for item in items
        if (not filters.get("namespaces") or item.namespace in filters["namespaces"])
        and all(tag in item.tags for tag in filters.get("tags", []))
    ]
    assert_true_top_k(semantic_store, "apple kilo nova", allowed, 10, **filters)


def test_semantic_search_stays_exact_when_the_filter_is_too_selective_for_knn(
    semantic_store: ContextStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact_calls = []
    if isinstance(semantic_store, ContextStore):
        original = search.exact
        monkeypatch.setattr(search, "exact", lambda *args: exact_calls.append(1) or original(*args))
    else:
        from mcp_servers.context_store.postgres import queries

        original_async = queries.exact

        async def counted(*args):
            exact_calls.append(1)
            return await original_async(*args)

        monkeypatch.setattr(queries, "exact", counted)
    bulk = [
        ItemInput(namespace="bulk", id=f"b{i}", text="apple banana cherry " + WORDS[i % 16])
        for i in range(5000)
    ]
    rare = [ItemInput(namespace="rare", id=f"r{i}", text=f"{WORDS[i]} oscar papa") for i in range(12)]
    semantic_store.store_many(bulk + rare)
    embed_all(semantic_store)
    assert_true_top_k(semantic_store, "apple banana cherry", rare, 5, namespaces=["rare"])
    assert exact_calls == [1]


def test_hybrid_search_fuses_lexical_and_semantic_rankings(semantic_store: ContextStore) -> None:
    semantic_store.store_many(
        [
            ItemInput(namespace="n", id="exact", text="invoice 4711 overdue"),
            ItemInput(namespace="n", id="near", text="the invoice is overdue again"),
            ItemInput(namespace="n", id="far", text="holiday pictures from the beach"),
        ]
    )
    embed_all(semantic_store)
    hits = semantic_store.search("invoice overdue", mode="hybrid", limit=3)
    assert [hit.item.id for hit in hits][:2] in (["exact", "near"], ["near", "exact"])
    assert hits[2].item.id == "far"


def test_items_wait_in_the_queue_until_embedded(semantic_store: ContextStore) -> None:
    semantic_store.store(ItemInput(namespace="n", id="a", text="queued words"))
    assert semantic_store.pending_embeddings() == 1
    assert semantic_store.search("queued words", mode="semantic") == []
    embed_all(semantic_store)
    assert semantic_store.pending_embeddings() == 0
    assert [hit.item.id for hit in semantic_store.search("queued words", mode="semantic")] == ["a"]


def test_update_of_text_replaces_the_vector(semantic_store: ContextStore) -> None:
    semantic_store.store(ItemInput(namespace="n", id="a", text="red apples"))
    embed_all(semantic_store)
    semantic_store.store(ItemInput(namespace="n", id="a", text="blue whales"))
    embed_all(semantic_store)
    hits = semantic_store.search("blue whales", mode="semantic")
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    semantic_store.delete("n", "a")
    assert semantic_store.search("blue whales", mode="semantic") == []


def test_embedder_change_recreates_the_vector_table_and_reembeds(db_path) -> None:
    first = ContextStore.open(db_path, embedder=HashingEmbedder(dimension=32, name="test:a"))
    first.store_many([ItemInput(namespace="n", id=str(i), text=f"word{i} shared") for i in range(5)])
    embed_all(first)
    first.close()
    second = ContextStore.open(db_path, embedder=HashingEmbedder(dimension=48, name="test:b"))
    assert second.pending_embeddings() == 5
    embed_all(second)
    assert [hit.item.id for hit in second.search("word3", mode="semantic", limit=1)] == ["3"]
    second.close()


@pytest.mark.slow
def test_semantic_search_with_the_real_local_model_finds_a_paraphrase(db_path) -> None:
    from mcp_servers.context_store.embedders import EmbedderSpec, create_embedder

    store = ContextStore.open(db_path, embedder=create_embedder(EmbedderSpec(kind="local")))
    store.store_many(
        [
            ItemInput(
                namespace="raw.email",
                id="flight",
                text="Your flight to Lisbon departs Friday at 9:40 from gate B12",
            ),
            ItemInput(
                namespace="raw.email",
                id="invoice",
                text="Invoice 2291 for March is attached, payment due in 14 days",
            ),
            ItemInput(
                namespace="raw.email", id="party", text="Come to Anna's birthday party on Saturday evening"
            ),
        ]
    )
    embed_all(store)
    assert store.search("when does my plane leave", mode="semantic", limit=1)[0].item.id == "flight"
    assert store.search("March payment", mode="hybrid", limit=1)[0].item.id == "invoice"
    store.close()
