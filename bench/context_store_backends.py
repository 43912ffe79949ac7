# ruff: noqa: E402 - imports follow the sys.path fix below
"""The context store on SQLite and on PostgreSQL side by side, through real server processes.

    .venv/bin/python bench/context_store_backends.py [--items 100000] [--json]

For each backend, on a fresh database (SQLite: a file in a temporary directory; PostgreSQL: a
pgserver 16.2 + pgvector 0.6.2 started in a temporary directory, one tenant per backend run):
single `store` round trips; `store_many` items per second (batches of 2,000); a namespace `query`
(limit 50) and a lexical `search` (limit 10) over N items; the server's RSS with N items; the
latency from a `store` in one server process to the `resources/updated` notification reaching a
subscriber of another (SQLite: datagram + data_version watcher; PostgreSQL: LISTEN/NOTIFY); and
four server processes writing at once: aggregate items per second (`store_many` of 200) and the
notification latency p99 across processes; then semantic top-10 search over the N items (random
unit vectors written straight into each backend's vector table under the local embedder's name,
since embedding 100,000 texts would take half an hour; each query embedded by the real local model:
PostgreSQL's HNSW index is built after the copy). Embedders are otherwise off
(PEPPER_CONTEXT_EMBEDDER=none). Fixed seed; prints load and versions.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]

import argparse
import json
import os
import platform
import random
import shutil
import tempfile
import time
import warnings
from contextlib import AsyncExitStack

import anyio
import numpy
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from mcp.client.subscriptions import listen

from bench.context_store import WORDS, percentile, pid_serving, rss_mb, timed
from mcp_servers.context_store.embedders import LocalE5Embedder

Result = dict[str, str]


def client(marker: Path, env: dict[str, str]) -> Client:
    """A server process; `marker` is its --db (the SQLite file, or a name that finds its pid)."""
    environment = dict(os.environ, PYTHONPATH=str(REPO), PEPPER_CONTEXT_EMBEDDER="none")
    environment.update(env)
    transport = StdioTransport(
        sys.executable,
        ["-m", "mcp_servers.context_store", "--db", str(marker)],
        env=environment,
        keep_alive=False,
    )
    return Client(transport, timeout=300)


def summarise(latencies: list[float]) -> str:
    return f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"


async def writes(session: Client, count: int, result: Result) -> None:
    started = time.perf_counter()
    for i in range(500):
        await session.call_tool("store", {"namespace": "bench.single", "id": str(i), "data": {"i": i}})
    result["store round trips"] = f"{500 / (time.perf_counter() - started):,.0f} /s"
    chooser = random.Random(1)
    started = time.perf_counter()
    for start in range(0, count, 2000):
        items = [
            {"namespace": f"bench.{i % 10}", "id": str(i), "text": " ".join(chooser.choices(WORDS, k=8))}
            for i in range(start, min(count, start + 2000))
        ]
        await session.call_tool("store_many", {"items": items})
    result["store_many items (2k per call)"] = f"{count / (time.perf_counter() - started):,.0f} /s"


async def reads(session: Client, count: int, result: Result) -> None:
    async def query(i: int) -> None:
        await session.call_tool("query", {"namespaces": [f"bench.{i % 10}"], "limit": 50})

    async def search(i: int) -> None:
        await session.call_tool("search", {"text": f"{WORDS[i % len(WORDS)]} report", "mode": "lexical"})

    await query(0), await search(0)  # warm up
    result[f"query at {count:,} items"] = summarise(await timed(query, 50))
    result[f"lexical search at {count:,} items"] = summarise(await timed(search, 50))


async def notification_latency(listener: Client, writers: list[Client], rounds: int) -> list[float]:
    """Each writer stores `rounds` times into its own namespace, waiting for the listener's wake-up."""
    uris = [f"context://namespace/bench.w{n}" for n in range(len(writers))]
    woken = {uri: anyio.Event() for uri in uris}
    latencies: list[float] = []

    async def dispatch(updates) -> None:
        async for update in updates:
            woken[str(update.uri)].set()

    async def write(number: int, writer: Client) -> None:
        for i in range(rounds):
            woken[uris[number]] = anyio.Event()
            started = time.perf_counter()
            await writer.call_tool("store", {"namespace": f"bench.w{number}", "id": str(i), "data": i})
            with anyio.fail_after(10):
                await woken[uris[number]].wait()
            latencies.append((time.perf_counter() - started) * 1000)

    async with (
        listen(listener.session, resource_subscriptions=uris) as updates,
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(dispatch, updates)
        async with anyio.create_task_group() as writing:
            for number, writer in enumerate(writers):
                writing.start_soon(write, number, writer)
        tasks.cancel_scope.cancel()
    return latencies


async def four_writers(writers: list[Client], result: Result, batches: int = 10) -> None:
    async def write(number: int, writer: Client) -> None:
        for batch in range(batches):
            items = [
                {"namespace": "bench.many", "id": f"{number}-{batch}-{i}", "data": i} for i in range(200)
            ]
            await writer.call_tool("store_many", {"items": items})

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for number, writer in enumerate(writers):
            tasks.start_soon(write, number, writer)
    result["4 processes store_many, aggregate"] = (
        f"{4 * batches * 200 / (time.perf_counter() - started):,.0f} items/s"
    )


async def run_backend(folder: Path, env: dict[str, str], count: int) -> Result:
    result: Result = {}
    marker = folder / "store.sqlite3"
    async with AsyncExitStack() as stack:
        main = await stack.enter_async_context(client(marker, env))
        await writes(main, count, result)
        await reads(main, count, result)
        result[f"server RSS with {count:,} items"] = f"{rss_mb(pid_serving(marker)):.0f} MB"
        other = await stack.enter_async_context(client(marker, env))
        result["notify latency, other process"] = summarise(await notification_latency(main, [other], 100))
        writers = [other] + [await stack.enter_async_context(client(marker, env)) for _ in range(3)]
        await four_writers(writers, result)
        latencies = await notification_latency(main, writers, 25)
        result["notify latency, 4 writer processes"] = summarise(latencies)
    await semantic(marker, env, count, result)
    return result


def unit_vectors(count: int, dimension: int) -> numpy.ndarray:
    vectors = numpy.random.default_rng(1).standard_normal((count, dimension)).astype(numpy.float32)
    return vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)


def vectors_into_sqlite(marker: Path, embedder: LocalE5Embedder) -> None:
    from mcp_servers.context_store.store import ContextStore

    store = ContextStore.open(marker, embedder=embedder)  # records the embedder, makes items_vec
    with store._write() as db:
        rowids = [row[0] for row in db.execute("SELECT rowid FROM items ORDER BY rowid")]
        vectors = unit_vectors(len(rowids), embedder.dimension)
        db.executemany(
            "INSERT INTO items_vec (rowid, embedding) VALUES (?, ?)",
            ((rowid, vectors[n].tobytes()) for n, rowid in enumerate(rowids)),
        )
        db.execute("DELETE FROM pending_embeddings")
    store.close()


async def vectors_into_postgres(url: str, tenant: str, embedder: LocalE5Embedder) -> None:
    import psycopg
    from pgvector.psycopg import register_vector_async

    from mcp_servers.context_store.postgres import schema

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute(f"SET search_path TO pepper_{tenant}, public")
        await register_vector_async(connection)
        await schema.prepare_vector_table(connection, embedder.name, embedder.dimension)
        await connection.execute("DROP INDEX items_vec_hnsw")  # built once, after the copy
        rowids = [row[0] for row in await (await connection.execute("SELECT rowid FROM items")).fetchall()]
        vectors = unit_vectors(len(rowids), embedder.dimension)
        async with connection.cursor() as cursor:
            async with cursor.copy(
                "COPY items_vec (item_rowid, embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "vector"])
                for n, rowid in enumerate(rowids):
                    await copy.write_row((rowid, vectors[n]))
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.execute(
            "CREATE INDEX items_vec_hnsw ON items_vec USING hnsw (embedding vector_cosine_ops)"
        )
        await connection.execute("DELETE FROM pending_embeddings")


async def semantic(marker: Path, env: dict[str, str], count: int, result: Result) -> None:
    embedder = LocalE5Embedder()
    started = time.perf_counter()
    if "PEPPER_CONTEXT_DATABASE_URL" in env:
        await vectors_into_postgres(
            env["PEPPER_CONTEXT_DATABASE_URL"], env["PEPPER_CONTEXT_TENANT"], embedder
        )
    else:
        await anyio.to_thread.run_sync(vectors_into_sqlite, marker, embedder)
    result[f"write + index {count:,} random vectors"] = f"{time.perf_counter() - started:.1f} s"
    queries = [" ".join(random.Random(i).choices(WORDS, k=3)) for i in range(50)]
    async with client(marker, {**env, "PEPPER_CONTEXT_EMBEDDER": "local"}) as session:
        await session.call_tool("search", {"text": "warm up the model", "mode": "semantic"})
        latencies = await timed(
            lambda i: session.call_tool("search", {"text": queries[i], "mode": "semantic"}), 50
        )
        result[f"semantic top-10 at {count:,} (query embedded)"] = summarise(latencies)


def start_postgres(folder: Path) -> tuple[object, str]:
    folder.chmod(0o755)  # the server runs as its own user (pgserver's, when we are root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    return server, server.get_uri()


async def main(count: int, as_json: bool) -> None:
    load_before = os.getloadavg()[0]
    results: dict[str, Result] = {}
    folder = Path(tempfile.mkdtemp(prefix="pepper-bench-"))
    try:
        (folder / "sqlite").mkdir()
        results["SQLite"] = await run_backend(folder / "sqlite", {}, count)
        (folder / "postgres").mkdir()
        server, url = start_postgres(folder / "postgres")
        try:
            env = {"PEPPER_CONTEXT_DATABASE_URL": url, "PEPPER_CONTEXT_TENANT": "bench"}
            results["PostgreSQL"] = await run_backend(folder / "postgres", env, count)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context = {
        "items": count,
        "load average before/after": f"{load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "versions": "pgserver 0.1.4 (PostgreSQL 16.2, pgvector 0.6.2), psycopg 3.3.9, sqlite-vec 0.1.9",
    }
    if as_json:
        print(json.dumps({"results": results, **context}, indent=2))
        return
    print_table(results)
    for key, value in context.items():
        print(f"{key}: {value}")


def print_table(results: dict[str, Result]) -> None:
    measures = list(next(iter(results.values())))
    rows = [("measure", *results), *[(m, *(r.get(m, "") for r in results.values())) for m in measures]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="items for the read and RSS measures")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    arguments = parser.parse_args()
    anyio.run(main, arguments.items, arguments.json)
