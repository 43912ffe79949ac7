"""`Storage`: the one interface the MCP server uses, which every backend implements (decision D2).

The protocol is asynchronous and speaks only the models of `models.py`. SQLite (`sqlite_storage`,
over the blocking `ContextStore` run in worker threads) and PostgreSQL (`postgres`) implement it.
Positions (`seq`) are in commit order: a reader that has seen position `p` is never later shown an
event at or below `p`. Tenancy is fixed when a backend is opened; no method names a tenant. Input
limits (`Limits`) are checked by each backend with the same shared checks, before any work.
`watch_changes` is how other writers' commits reach the notifier: it calls `on_change(position)`
for each commit it learns of (0 when the backend cannot tell the position) and runs until
cancelled; it reports itself started (`task_status`) once it is listening, so that a server that
says it is ready misses no commit; a wake-up only says "read the log", the log stays the truth. (D2 sketched it as an
async iterator; a callback keeps the backend's listener tasks inside the caller's task group.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from anyio.abc import TaskStatus

from .limits import Limits
from .models import Event, EventPage, Item, ItemInput, SearchHit, Written

if TYPE_CHECKING:
    from .embedders import Embedder

__all__ = ["Storage"]


class Storage(Protocol):
    """What the context store's MCP server needs of a backend; see the module docstring."""

    backend: str  # "sqlite" or "postgresql", for logs and the health report
    embedder: Embedder | None
    limits: Limits
    unindexed_namespaces: tuple[str, ...]  # text kept for semantic search, left out of the lexical index
    watches_commits: bool  # True when `watch_changes` reports every commit, so polling can be rare

    async def store_many(self, inputs: Sequence[ItemInput]) -> list[Written]: ...

    async def store(self, item: ItemInput) -> Written: ...

    async def delete(self, namespace: str, item_id: str) -> Written: ...

    async def get(self, namespace: str, item_id: str) -> Item: ...

    async def query(
        self,
        namespaces: Sequence[str] = (),
        tags: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Item]: ...

    async def search(
        self, text: str, mode: str = "hybrid", limit: int = 10, **filters: Any
    ) -> list[SearchHit]: ...

    def check_search(self, text: str, mode: str, limit: int, *filters: Sequence[str]) -> None: ...

    async def read_events(
        self,
        after: int | None = None,
        namespaces: Sequence[str] = (),
        limit: int = 100,
        consumer: str | None = None,
    ) -> EventPage: ...

    async def ack(self, consumer: str, seq: int) -> int: ...

    async def cursor(self, consumer: str) -> int: ...

    async def last_seq(self) -> int: ...

    async def events_after(self, seq: int, limit: int = 1000) -> list[Event]: ...

    async def purge_expired(self, now: float | None = None) -> int: ...

    async def compact_events(self, now: float | None = None) -> int: ...

    async def pending_embeddings(self) -> int: ...

    async def embed_pending(
        self, batch: int = 64, now: float | None = None, idle_seconds: float = 0.0
    ) -> int:
        """Embed up to `batch` queued items; old background items only after `idle_seconds` without
        other writes (a backend may serve its queue in plain order: PostgreSQL does, for now)."""

    async def shrink_memory(self) -> None:
        """Free what the backend caches in this process (to keep to a memory budget)."""

    async def count(self) -> tuple[int, int]: ...

    async def watch_changes(
        self, on_change: Callable[[int], None], *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None: ...

    async def aclose(self) -> None: ...
