"""The embedding queue serves the user first: what Pepper wrote and recent mail before old backfilled
mail (which waits for idle time), tool calls before batches, at a lower OS priority, in a memory budget."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import psutil
import pytest
from fastmcp import Client

from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.pacing import (
    ITEM_BYTES,
    MARGIN,
    ForegroundGate,
    LowPriorityEmbedder,
    MemoryBudget,
)
from mcp_servers.context_store.services import EmbeddingWorker
from mcp_servers.context_store.sqlite import connect
from mcp_servers.context_store.sqlite_storage import SqliteStorage
from mcp_servers.context_store.store import ContextStore
from tests.support.processes import stdio_transport

from .conftest import HashingEmbedder


class RecordingEmbedder(HashingEmbedder):
    """Remembers what it embedded, in order, and at which OS priority each batch ran."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.priorities: list[int] = []
        self.called = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.order += list(texts)
        self.called.set()
        self.priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return super().embed_documents(texts)


def mail(id: str, backfill: bool = False) -> ItemInput:
    return ItemInput(
        namespace="raw.email", id=id, text=id, tags=["INBOX", *(["backfill"] if backfill else [])]
    )


def test_what_the_user_sees_and_recent_mail_are_embedded_before_old_backfilled_mail(db_path: Path) -> None:
    embedder = RecordingEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    store.store_many([mail("old1", backfill=True), mail("old2", backfill=True)])  # newest old mail first
    store.store_many([mail("recent1"), mail("recent2")])
    store.store(ItemInput(namespace="signals.email", id="s1", text="signal1"))
    store.store(ItemInput(namespace="signals.email", id="s2", text="signal2"))
    while store.embed_pending(batch=2):
        pass
    assert embedder.order == ["signal2", "signal1", "recent2", "recent1", "old1", "old2"]
    store.close()


def test_old_backfilled_mail_waits_until_nothing_else_was_written_for_a_while(db_path: Path) -> None:
    embedder = RecordingEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    store.store_many([mail("old1", backfill=True), mail("recent1")])
    assert store.embed_pending(idle_seconds=3600) == 1 and embedder.order == ["recent1"]
    assert store.embed_pending(idle_seconds=3600) == 0  # the user wrote within the hour: old mail waits
    store.store_many([mail("old2", backfill=True)])  # backfill alone does not keep the store busy
    assert store.embed_pending(now=time.time() + 3601, idle_seconds=3600) == 2
    assert embedder.order == ["recent1", "old1", "old2"]
    store.close()


def test_a_queue_of_the_previous_format_is_migrated_and_served_by_priority(db_path: Path) -> None:
    store = ContextStore.open(db_path, embedder=RecordingEmbedder())
    store.store_many([mail("queued1"), mail("queued2")])
    store.close()
    old = connect(db_path)  # the queue as the previous release wrote it: no priority, no queued_at
    old.execute("DROP INDEX pending_embeddings_order")
    old.execute("ALTER TABLE pending_embeddings DROP COLUMN priority")
    old.execute("ALTER TABLE pending_embeddings DROP COLUMN queued_at")
    old.close()
    embedder = RecordingEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    store.store(ItemInput(namespace="signals.email", id="s1", text="signal1"))
    assert store.pending_embeddings() == 3
    while store.embed_pending(batch=1):
        pass
    assert embedder.order[0] == "signal1" and sorted(embedder.order[1:]) == ["queued1", "queued2"]
    store.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_document_batches_run_at_a_lower_os_priority_and_queries_at_the_callers() -> None:
    inner = RecordingEmbedder()
    embedder = LowPriorityEmbedder(inner)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    embedder.embed_documents(["a text"])
    embedder.embed_query("a question")
    assert inner.priorities == [min(mine + 10, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    embedder.close()


def test_the_budget_sizes_batches_by_the_room_left_and_gives_memory_back_over_it() -> None:
    used = [100 * 2**20]
    budget = MemoryBudget(400, measure=lambda: used[0])
    assert budget.batch() == min(64, (int(400 * 2**20 * (1 - MARGIN)) - 100 * 2**20) // ITEM_BYTES)
    used[0] = 395 * 2**20
    assert budget.batch() == 1 and not budget.over()
    used[0] = 420 * 2**20
    unloaded = []

    class Unloadable:
        def unload(self) -> bool:
            unloaded.append(True)
            used[0] = 300 * 2**20
            return True

    assert budget.over() and budget.release(Unloadable()) and unloaded == [True]


@pytest.mark.anyio
async def test_the_worker_asks_no_more_texts_of_the_embedder_than_its_batch_size(db_path: Path) -> None:
    """A local model is no faster per text in larger calls, only bigger: the worker keeps to the
    embedder's `batch_size` even when the memory budget has room for more."""

    class SmallBatches(RecordingEmbedder):
        batch_size = 3

        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            self.sizes.append(len(texts))
            return super().embed_documents(texts)

    embedder = SmallBatches()
    store = ContextStore.open(db_path, embedder=embedder)
    for n in range(7):
        store.store(ItemInput(namespace="notes", id=f"n{n}", text=f"note number {n}"))
    worker = EmbeddingWorker(SqliteStorage(store), budget=MemoryBudget(4000, measure=lambda: 0))
    await worker.flush()
    assert embedder.sizes == [3, 3, 1] and store.pending_embeddings() == 0
    assert LowPriorityEmbedder(embedder).batch_size == 3
    store.close()


@pytest.mark.anyio
async def test_the_worker_waits_for_tool_calls_in_flight(db_path: Path) -> None:
    embedder = RecordingEmbedder()
    store = ContextStore.open(db_path, embedder=embedder)
    gate = ForegroundGate(patience=60)
    worker = EmbeddingWorker(SqliteStorage(store), gate=gate)
    store.store(ItemInput(namespace="notes", id="a", text="a note"))
    async with anyio.create_task_group() as tasks:
        with gate.serving():  # a tool call in flight
            tasks.start_soon(worker.run)
            worker.wake()
            await anyio.wait_all_tasks_blocked()
            assert gate.waits == 1 and embedder.order == []
        assert await anyio.to_thread.run_sync(embedder.called.wait, 10)
        tasks.cancel_scope.cancel()
    assert embedder.order == ["a note"]
    store.close()


class SlowEmbedder(RecordingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.three = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        time.sleep(0.3)  # a batch of a real model on long mail takes seconds
        vectors = super().embed_documents(texts)
        if len(self.order) >= 3:
            self.three.set()
        return vectors


async def three_batches(db: Path, gate: ForegroundGate, in_flight: float, between: float) -> float:
    """Seconds the worker takes for three batches of 0.3 s while calls of `in_flight` seconds
    come `between` seconds apart (none when `in_flight` is 0)."""
    embedder = SlowEmbedder()
    store = ContextStore.open(db, embedder=embedder)
    worker = EmbeddingWorker(SqliteStorage(store), gate=gate, batch=1)
    store.store_many([ItemInput(namespace="notes", id=f"n{n}", text=f"note {n}") for n in range(3)])

    async def calls() -> None:
        while in_flight:
            with gate.serving():
                await anyio.sleep(in_flight)
            await anyio.sleep(between)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(calls)
        started = anyio.current_time()
        tasks.start_soon(worker.run)
        worker.wake()
        assert await anyio.to_thread.run_sync(embedder.three.wait, 20)
        took = anyio.current_time() - started
        tasks.cancel_scope.cancel()
    store.close()
    return took


@pytest.mark.anyio
async def test_while_calls_keep_coming_the_embedder_keeps_to_its_share_of_the_time(tmp_path: Path) -> None:
    """In a first sync there is a moment with no call in flight every few milliseconds, so waiting
    for one held the embedder back from nothing. After a batch with calls in flight for half of its
    time or more it rests three times as long as the batch took (its share: a quarter); after one
    with a lone call, next to nothing (embeddings drain at full speed once the sync is done); with
    no calls, not at all."""
    busy = ForegroundGate(patience=0.05, share=0.25)
    took = await three_batches(tmp_path / "busy.db", busy, in_flight=0.01, between=0.005)
    assert busy.rests >= 2 and took >= 3 * 0.3 + 2 * 0.85, f"three busy batches took {took:.2f} s"

    lone = ForegroundGate(patience=0.05, share=0.25)
    took = await three_batches(tmp_path / "lone.db", lone, in_flight=0.01, between=0.3)
    assert took < 3 * 0.3 + 0.85, f"three batches with a lone call each took {took:.2f} s"

    idle = ForegroundGate(patience=0.05, share=0.25)
    took = await three_batches(tmp_path / "idle.db", idle, in_flight=0.0, between=0.0)
    assert idle.rests == 0 and took < 3 * 0.3 + 0.85, f"three batches with no calls took {took:.2f} s"


LONG = ("The quarterly report is attached; the numbers for the northern region need a second look. " * 12)[
    :1000
]


def peak_rss(pid: int) -> int:
    """The process's peak resident set size so far (Linux's VmHWM), in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) * 1024


@pytest.mark.slow
@pytest.mark.timeout(400)  # a real local model, embedding at a low priority on a shared machine
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
@pytest.mark.anyio
async def test_a_context_store_with_a_small_rss_budget_keeps_to_it(tmp_path: Path) -> None:
    budget_mb = 170
    args = ["--db", str(tmp_path / "c.db"), "--rss-budget-mb", str(budget_mb)]
    env = {"PEPPER_CONTEXT_EMBEDDER": "local", "PEPPER_CONTEXT_EMBED_IDLE_SECONDS": "0"}
    async with Client(stdio_transport("mcp_servers.context_store", args, env), timeout=120) as client:
        server = next(
            p for p in psutil.Process().children(recursive=True) if "context_store" in " ".join(p.cmdline())
        )
        items = [{"namespace": "raw.email", "id": f"m{i}", "text": f"{i} {LONG}"} for i in range(10)]
        await client.call_tool("store_many", {"items": items})
        with anyio.fail_after(380):
            while True:  # each semantic search first catches up with the queue, in budgeted batches
                found = await client.call_tool("search", {"text": "northern numbers", "mode": "semantic"})
                if found.structured_content["pending_embeddings"] == 0:
                    break
        peak = peak_rss(server.pid)
        assert found.structured_content["hits"]
    print(f"peak RSS {peak / 2**20:.0f} MB, budget {budget_mb} MB")
    assert peak <= budget_mb * 2**20 * 1.25, f"peak RSS {peak / 2**20:.0f} MB over a {budget_mb} MB budget"
