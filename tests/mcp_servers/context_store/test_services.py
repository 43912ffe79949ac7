"""Opening the store from settings: with no embedder, or one that cannot load, semantic search says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.context_store.errors import SemanticSearchOff
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.services import open_store
from mcp_servers.context_store.settings import ContextStoreSettings


def test_open_store_without_embedder_keeps_lexical_search(db_path: Path) -> None:
    store = open_store(ContextStoreSettings(db_path=db_path, embedder="none"))
    store.store(ItemInput(namespace="n", id="a", text="plain words"))
    assert [hit.item.id for hit in store.search("plain", mode="lexical")] == ["a"]
    with pytest.raises(SemanticSearchOff, match="PEPPER_CONTEXT_EMBEDDER is 'none'"):
        store.search("plain", mode="semantic")
    store.close()


def test_open_store_with_an_unknown_local_model_opens_without_semantic_search(db_path: Path) -> None:
    store = open_store(
        ContextStoreSettings(db_path=db_path, embedder="local", embedder_model="no-such-model")
    )
    assert store.embedder is None
    with pytest.raises(
        SemanticSearchOff, match="the local embedder is unavailable: unknown local embedding model"
    ):
        store.search("anything", mode="hybrid")
    store.close()


def test_open_store_applies_limits_and_retention_from_settings(db_path: Path) -> None:
    settings = ContextStoreSettings(
        db_path=db_path, embedder="none", max_item_bytes=123, max_batch_items=7, event_retention_max=3
    )
    store = open_store(settings)
    assert (store.limits.max_item_bytes, store.limits.max_batch_items) == (123, 7)
    assert store.retention.max_events == 3
    store.close()
