# ruff: noqa: E402 - imports follow the sys.path fix below
"""What mail costs in the PostgreSQL context store with and without its words in the keyword index.

    .venv/bin/python bench/context_store_pg_mail_size.py [--items 1000] [--json]

Stores N mail-like `raw.email` items (the generated mailbox of bench/first_sync_mail.py, seed 16:
headers and body text as the orchestrator stores them, median body ~1.5 kB, five languages) into a
pgserver 16.2 + pgvector started in a temporary directory, no embedder, in batches of 200, and
reports the items table's size (heap + TOAST) and its indexes (the GIN keyword index apart) per
1,000 items after `VACUUM`:
- "every item's words": `PEPPER_CONTEXT_UNINDEXED_NAMESPACES` empty, which stores exactly what the
  previous format's GENERATED `tsv` column stored for every item (mail included);
- "raw.email unindexed": the default setting (mail's `tsv` NULL), also after `VACUUM FULL`;
- the first store reopened with the default setting (the in-place upgrade path: the backfill at open
  clears mail's words and rebuilds the keyword index), after `VACUUM` (the table's freed space is
  reused, its files not shrunk) and after `VACUUM FULL` (files rewritten, the table locked meanwhile).
Fixed seed; prints load and versions.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]

import argparse
import email
import email.policy
import json
import os
import platform
import shutil
import tempfile
import time

import anyio
import psycopg

from bench.context_store_backends import print_table, start_postgres
from bench.first_sync_mail import build_mailbox
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.postgres import PostgresStorage

SIZES = """SELECT pg_table_size('{s}.items'), pg_relation_size('{s}.items_by_words'),
    pg_indexes_size('{s}.items') - pg_relation_size('{s}.items_by_words')"""


def mail_items(count: int, folder: Path) -> list[ItemInput]:
    """N generated messages as `raw.email` items: the headers a reader sees, then the plain text."""
    build_mailbox(folder, count, seed=16)
    items = []
    for path in sorted(folder.rglob("cur/*")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        head = "\n".join(f"{key}: {message[key]}" for key in ("From", "To", "Subject", "Date"))
        text = f"{head}\n\n{body.get_content() if body else ''}"
        items.append(ItemInput(namespace="raw.email", id=path.name.split(":")[0], text=text))
    return items


async def store(url: str, tenant: str, items: list[ItemInput], unindexed: tuple[str, ...]) -> float:
    storage = await PostgresStorage.open(url, tenant, unindexed_namespaces=unindexed)
    try:
        started = time.perf_counter()
        for start in range(0, len(items), 200):
            await storage.store_many(items[start : start + 200])
        return time.perf_counter() - started
    finally:
        await storage.aclose()


def sizes(url: str, tenant: str, count: int, command: str = "VACUUM {s}.items") -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(command.format(s=f"pepper_{tenant}"))
        table, words, others = connection.execute(SIZES.format(s=f"pepper_{tenant}")).fetchone()
    per = 1000 / count / 1e6
    return {
        "table (heap + TOAST) MB/1k": f"{table * per:.2f}",
        "keyword index MB/1k": f"{words * per:.2f}",
        "other indexes MB/1k": f"{others * per:.2f}",
        "total MB/1k": f"{(table + words + others) * per:.2f}",
    }


async def upgrade(url: str, count: int) -> dict[str, dict[str, str]]:
    """The store with every item's words reopened with the default setting: the backfill at open."""
    started = time.perf_counter()
    await (await PostgresStorage.open(url, "every", unindexed_namespaces=("raw.email",))).aclose()
    seconds = time.perf_counter() - started
    opened = {"open with backfill s": f"{seconds:.2f}"}
    return {
        "upgraded at open, VACUUM": {**sizes(url, "every", count), **opened},
        "then VACUUM FULL": sizes(url, "every", count, "VACUUM FULL {s}.items"),
    }


async def measure(url: str, items: list[ItemInput]) -> dict[str, dict[str, str]]:
    results = {}
    for tenant, label, unindexed in (
        ("every", "every item's words (previous format)", ()),
        ("mail", "raw.email unindexed", ("raw.email",)),
    ):
        seconds = await store(url, tenant, items, unindexed)
        results[label] = {
            **sizes(url, tenant, len(items)),
            "store_many items/s": f"{len(items) / seconds:,.0f}",
        }
    results["raw.email unindexed, VACUUM FULL"] = sizes(url, "mail", len(items), "VACUUM FULL {s}.items")
    return {**results, **await upgrade(url, len(items))}


async def main(count: int, as_json: bool) -> None:
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="pepper-bench-"))
    try:
        items = mail_items(count, folder / "mail")
        (folder / "postgres").mkdir()
        server, url = start_postgres(folder / "postgres")
        try:
            results = await measure(url, items)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context = {
        "items": f"{count} raw.email, {sum(len(item.text or '') for item in items) / count:,.0f} characters on average",
        "load average before/after": f"{load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "versions": f"pgserver 0.1.4 (PostgreSQL 16.2), psycopg {psycopg.__version__}",
    }
    if as_json:
        print(json.dumps({"results": results, **context}, indent=2))
        return
    print_table({label: {m: r.get(m, "") for m in MEASURES} for label, r in results.items()})
    for key, value in context.items():
        print(f"{key}: {value}")


MEASURES = (
    "table (heap + TOAST) MB/1k",
    "keyword index MB/1k",
    "other indexes MB/1k",
    "total MB/1k",
    "store_many items/s",
    "open with backfill s",
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="raw.email items to store")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    arguments = parser.parse_args()
    anyio.run(main, arguments.items, arguments.json)
