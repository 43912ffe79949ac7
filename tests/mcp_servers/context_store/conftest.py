"""Fixtures for the context store tests, and a deterministic test-double embedder (tests only)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.store import ContextStore


class HashingEmbedder:
    """Bag of words hashed into `dimension` buckets, L2-normalised: texts sharing words are close."""

    def __init__(self, dimension: int = 64, name: str = "test:hashing") -> None:
        self.name = name
        self.dimension = dimension
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vector[bucket % self.dimension] += 1.0
        norm = math.sqrt(sum(value * value for value in vector)) or 1.0
        return [value / norm for value in vector]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "context.sqlite3"


@pytest.fixture
def settings(db_path: Path) -> ContextStoreSettings:
    return ContextStoreSettings(db_path=db_path, embedder="none", maintenance_interval_seconds=0.2)


@pytest.fixture
def store(db_path: Path) -> Iterator[ContextStore]:
    opened = ContextStore.open(db_path)
    yield opened
    opened.close()


@pytest.fixture
def semantic_store(db_path: Path) -> Iterator[ContextStore]:
    opened = ContextStore.open(db_path, embedder=HashingEmbedder())
    yield opened
    opened.close()
