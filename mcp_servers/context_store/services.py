"""The context store's runtime pieces besides notifications: opening a backend from settings, and the
background loops that purge expired items, compact the event log and fill pending embeddings.

The embedder is loaded here, off the event loop; when it cannot load (missing package, endpoint
down, `embedder=none`) the store opens without it and records why, which semantic search reports.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from .errors import ContextStoreError, StorageError
from .events import Retention
from .pacing import ForegroundGate, LowPriorityEmbedder, MemoryBudget
from .settings import ContextStoreSettings
from .sqlite import MMAP_BYTES
from .sqlite_storage import SqliteStorage
from .storage import Storage
from .store import ContextStore, Limits

if TYPE_CHECKING:
    from .embedders import Embedder

__all__ = ["EmbeddingWorker", "embedding_worker", "maintain", "open_storage", "open_store"]

logger = logging.getLogger(__name__)


def load_embedder(settings: ContextStoreSettings) -> tuple[Embedder | None, str]:
    """The configured embedder, or None and why semantic search is off (blocking: a worker thread)."""
    embedder, reason = None, "PEPPER_CONTEXT_EMBEDDER is 'none'"
    if settings.embedder != "none":
        try:
            from .embedders import EmbedderUnavailable, create_embedder
        except ImportError as exc:
            reason = f"the embedders module cannot be imported ({exc})"
        else:
            try:
                embedder = create_embedder(settings.embedder_spec())
                if embedder is not None:
                    embedder.dimension  # noqa: B018 - an endpoint may have to be asked: fail here, not later
            except EmbedderUnavailable as exc:
                embedder, reason = None, f"the {settings.embedder} embedder is unavailable: {exc}"
    if embedder is None:
        logger.warning("semantic search is off: %s", reason)
        return None, reason
    return LowPriorityEmbedder(embedder), reason  # batches below user-facing work (see `pacing`)


def store_options(settings: ContextStoreSettings) -> dict[str, Any]:
    """The limits, the retention rule and the namespaces left out of the lexical index, which every
    backend takes from the settings."""
    return {
        "unindexed_namespaces": settings.unindexed_namespaces,
        "limits": Limits(
            max_item_bytes=settings.max_item_bytes,
            max_batch_items=settings.max_batch_items,
            max_query_chars=settings.max_query_chars,
            query_seconds=settings.query_timeout_seconds,
        ),
        "retention": Retention(
            max_age_days=settings.event_retention_days,
            max_events=settings.event_retention_max,
            consumer_live_days=settings.consumer_live_days,
        ),
    }


def open_store(settings: ContextStoreSettings) -> ContextStore:
    """Open the SQLite database and the configured embedder (blocking: call it in a worker thread)."""
    embedder, reason = load_embedder(settings)
    mmap = MMAP_BYTES if settings.rss_budget_mb is None else min(MMAP_BYTES, settings.rss_budget_mb * 2**18)
    return ContextStore.open(
        settings.db_path,
        embedder=embedder,
        mmap_bytes=mmap,  # mapped pages of the file count in the process's RSS: a quarter of the budget
        semantic_off_reason=reason,
        **store_options(settings),
    )


def embedding_worker(store: Storage, settings: ContextStoreSettings, gate: ForegroundGate) -> EmbeddingWorker:
    """The worker the settings describe: below tool calls (`gate`), within the RSS budget."""
    budget = MemoryBudget(settings.rss_budget_mb) if settings.rss_budget_mb is not None else None
    return EmbeddingWorker(store, gate=gate, budget=budget, idle_seconds=settings.embed_idle_seconds)


async def open_storage(settings: ContextStoreSettings) -> Storage:
    """The backend the settings name, opened: PostgreSQL when `database_url` is set, else SQLite."""
    if settings.database_url is None:
        store = await anyio.to_thread.run_sync(open_store, settings)
        return SqliteStorage(store, settings.poll_interval_seconds)
    url = settings.database_url.get_secret_value()
    if not url.startswith(("postgresql://", "postgres://")):
        raise StorageError(
            "PEPPER_CONTEXT_DATABASE_URL must start with postgresql:// (unset it to use the SQLite file)"
        )
    try:
        from .postgres import PostgresStorage
    except ImportError as exc:
        raise StorageError(
            f"PEPPER_CONTEXT_DATABASE_URL names PostgreSQL but its driver is missing ({exc}): "
            'install the postgres extra (pip install -e ".[postgres]")'
        ) from exc
    embedder, reason = await anyio.to_thread.run_sync(load_embedder, settings)
    return await PostgresStorage.open(
        url, settings.tenant, embedder, semantic_off_reason=reason, **store_options(settings)
    )


async def maintain(store: Storage, interval: float) -> None:
    """Purge expired items and compact the event log every `interval` seconds, forever."""
    while True:
        try:
            purged = await store.purge_expired()
            compacted = await store.compact_events()
            if purged or compacted:
                logger.info("purged %d expired items, compacted %d events", purged, compacted)
        except ContextStoreError as exc:  # disk full, locked ...: said in words; the next round retries
            logger.warning("maintenance round failed: %s", exc)
        except Exception:  # the next round retries; a busy database is no reason to stop
            logger.exception("maintenance round failed")
        await anyio.sleep(interval)


class EmbeddingWorker:
    """Fills vectors for queued items in the background; `flush` lets a search catch up first.

    When the embedder itself fails, the worker waits `backoff` seconds (doubling up to
    `max_backoff`) before it tries again, and neither writes (`wake`) nor searches (`flush`) cut the
    wait short: a broken endpoint is asked once a minute at most, not once per write. It stays below
    user-facing work (`pacing`): with a `gate`, each batch waits for a moment with no tool call in
    flight, and rests first after a batch during which calls kept coming (keeping to its share of
    the time); old background items wait for `idle_seconds` without other writes; with a `budget`,
    the batch shrinks near it and memory is given back over it. A batch is never larger than the
    embedder's own `batch_size`, when it has one.
    """

    def __init__(
        self,
        store: Storage,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        *,
        gate: ForegroundGate | None = None,
        budget: MemoryBudget | None = None,
        idle_seconds: float = 0.0,
        batch: int = 64,
    ) -> None:
        self._store = store
        self._gate = gate
        self._budget = budget
        self._idle_seconds = idle_seconds
        self._batch = batch
        self._wake = anyio.Event()
        self._lock = anyio.Lock()
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._pause = 0.0
        self.retry_at: float | None = None  # anyio clock time; None when the embedder works
        self.rounds = 0  # batches handed to the embedder, for tests and logs

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle_poll: float = 1.0) -> None:
        while True:
            if self.retry_at is None:
                with anyio.move_on_after(idle_poll):  # also picks up items whose retry time came
                    await self._wake.wait()
            else:
                await anyio.sleep_until(self.retry_at)
            self._wake = anyio.Event()
            try:
                await self._embed_all()
            except Exception as exc:  # the items stay queued; a broken embedder is retried ever more rarely
                self._pause = min(self._max_backoff, max(self._backoff, self._pause * 2))
                self.retry_at = anyio.current_time() + self._pause
                logger.warning("the embedder failed (%s); retrying in %.0f s", exc, self._pause)
            else:
                self._pause, self.retry_at = 0.0, None

    async def flush(self) -> None:
        """Embed queued items until none are due; bound it with a cancel scope (`move_on_after`).
        While the embedder is known to be failing, returns at once (the worker retries it)."""
        if self.retry_at is not None:
            return
        await self._embed_all(background=False)

    async def _embed_all(self, background: bool = True) -> None:
        """Embed batches until none is due; a search's catch-up (`background=False`) neither waits
        for the gate (it is a tool call itself) nor embeds the background class."""
        while True:
            if background and self._gate is not None:
                await self._gate.wait_turn()
            busy = self._gate.busy_seconds() if self._gate is not None else 0.0
            batch = self._budget.batch() if self._budget is not None else self._batch
            batch = min(batch, getattr(self._store.embedder, "batch_size", None) or batch)
            idle = self._idle_seconds if background else float("inf")
            # One batch per turn of the lock: a search catching up waits for at most one batch of ours.
            started = anyio.current_time()
            async with self._lock:
                self.rounds += 1
                done = await self._store.embed_pending(batch, None, idle)
            if background and self._gate is not None:
                self._gate.ran(anyio.current_time() - started, busy)
            if self._budget is not None and self._budget.over():
                await self._store.shrink_memory()
                await anyio.to_thread.run_sync(self._budget.release, self._store.embedder)
            if not done:
                return
