"""Gmail search over the gmail server's FTS5 index: 10 representative queries at 100,000 messages.

    .venv/bin/python bench/gmail_search.py [--messages 100000] [--runs 30] [--json]

Generates a mailbox (fixed seed): 600 people with full names, five years of mail, inbox/archive/
sent/trash/spam, unread and starred states, user labels, newsletters with List-Id, attachments with
file names and sizes up to 8 MB, bodies drawn from a Zipf-distributed vocabulary. The messages are
written through the index's own code (`IndexRow.of_message`, `Journal.upsert`/`append`, as a sync
does), then each query is planned and run as `search_messages` runs it (`plan_search`, the SQL
page of 25 newest, the summaries built), `--runs` times after two warm-ups; p50 and p95 per query,
target p50 <= 20 ms. The sync a search starts with is not timed (it is the provider's, not the index's).
"""

# ruff: noqa: E402 - sys.path must be repaired before the standard library's email is imported
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from mcp_servers.gmail.journal import IndexRow, Journal
from mcp_servers.gmail.models import Address, Attachment, ListHeaders, Message, MessageSummary
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.search_sql import plan_search

SEED = 17
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
FIRST = (
    "Maria Wei Ada Priya Dana Carol Bob Jonas Lena Omar Sofia Yuki Ravi Anna Paul Ines Tom Eva Noah Mia"
).split()
LAST = ("Garcia Chen Lovelace Patel Scully Diaz Smith Berg Novak Haddad Rossi Sato Kumar Muller Martin Silva "
        "Brown Jensen Kim Costa Dubois Nowak Ito Lopez Weber Moreau Hansen Ricci Park Santos").split()  # fmt: skip
COMMON = ("the a to and of for in on is it you that this with we be are have at will can please meeting "
          "budget report quarterly invoice project review call team update schedule deadline draft "
          "numbers lunch travel flight hotel contract proposal design launch customer order payment").split()  # fmt: skip
SENDER_WEIGHTS = [1 / (rank + 10) for rank in range(600)]  # Zipf-like: the first person sends ~2.4%
QUERIES = [
    ('from:"Maria Garcia"', "a full name"),
    ("from:maria.garcia@example.com OR from:wei.chen@example.net", "OR of two senders"),
    ("budget report", "two common words"),
    ('"quarterly report"', "a phrase"),
    ("in:inbox -is:unread -list:news", "negations"),
    ("after:2024/01/01 before:2024/07/01 subject:invoice", "a date range and a subject"),
    ("has:attachment filename:pdf larger:1M", "attachments by name and size"),
    ("newer_than:30d is:unread", "recent unread"),
    ("{label:receipts label:travel} -has:attachment", "an OR group of labels, negated attachment"),
    ("(subject:meeting OR subject:call) -in:sent newer_than:1y", "grouping, negation, relative date"),
]


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    rare = {"".join(rng.choices(letters, k=rng.randint(4, 10))) for _ in range(6000)}
    return COMMON + sorted(rare)


def _people(rng: random.Random) -> list[Address]:
    people = []
    for n in range(600):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST) + n) % len(LAST)]
        domain = ("example.com", "example.net", "corp.example", "mail.example")[n % 4]
        people.append(
            Address(name=f"{first} {last}", email=f"{first}.{last}{'' if n < 40 else n}@{domain}".lower())
        )
    return people


def _message(
    n: int, rng: random.Random, words: list[str], weights: list[float], people: list[Address]
) -> tuple[Message, list[str]]:
    def text(count: int) -> str:
        return " ".join(rng.choices(words, weights, k=count))

    newsletter = rng.random() < 0.2
    sender = rng.choices(people, SENDER_WEIGHTS)[0] if not newsletter else people[rng.randrange(20)]
    attachments = [
        Attachment(name=f"{text(1)}-{n}.{rng.choice(['pdf', 'docx', 'jpg', 'xlsx'])}", content_type="application/octet-stream",
                   size=int(rng.lognormvariate(11, 1.5)) % 8_000_000)
        for _ in range(rng.random() < 0.15)
    ]  # fmt: skip
    message = Message(
        id=f"m{n:06d}", thread_id=f"t{n // 3:06d}", message_id=f"<{n}@bench.example>", from_=sender,
        to=[Address(name="Ada Lovelace", email="ada@home.example")],
        cc=rng.sample(people, rng.choice([0, 0, 0, 1, 2])), date=NOW - timedelta(minutes=n * 26),
        subject=text(rng.randint(2, 7)).capitalize(), text=text(rng.randint(30, 200)),
        list_headers=ListHeaders(list_id=f"<news{sender.email.split('@')[0]}.lists.example>" if newsletter else None),
        attachments=attachments, size=sum(a.size for a in attachments) + rng.randint(1_500, 40_000),
    )  # fmt: skip
    roll = rng.random()
    labels = ["SENT"] if roll < 0.08 else ["TRASH"] if roll < 0.09 else ["SPAM"] if roll < 0.10 else []
    labels += ["INBOX"] if 0.10 <= roll < 0.55 else []
    labels += ["UNREAD"] if "SENT" not in labels and rng.random() < 0.2 else []
    labels += ["STARRED"] if rng.random() < 0.03 else []
    labels += [rng.choice(["Receipts", "Travel", "Work", "Family"])] if rng.random() < 0.1 else []
    return message, labels


def build(path: Path, count: int) -> float:
    """Write `count` generated messages into a new index at `path`; returns the seconds it took."""
    rng = random.Random(SEED)
    words, people = _vocabulary(rng), _people(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf
    started = time.perf_counter()
    journal = Journal(path)
    journal.begin()
    for n in range(count):
        message, labels = _message(n, rng, words, weights, people)
        journal.upsert(IndexRow.of_message(message, "INBOX", f"/bench/{n}", ""))
        journal.append("added", message.id, labels)
        if n % 5000 == 4999:
            journal.commit()
            journal.begin()
    journal.commit()
    journal.close()
    return time.perf_counter() - started


def measure(path: Path, runs: int) -> list[dict]:
    journal = Journal(path)
    results = []
    for text, what in QUERIES:
        query = parse_query(text)
        timings = []
        for attempt in range(runs + 2):
            started = time.perf_counter()
            plan = plan_search(query, now=NOW, zone=UTC, me="ada@home.example", limit=25, cursor=None)
            found = journal.search(plan)
            [MessageSummary.model_validate(row.summary) for row, _ in found[:25]]
            if attempt >= 2:
                timings.append((time.perf_counter() - started) * 1000)
        sql, params = plan.statement("1")
        with sqlite3.connect(path) as db:  # every match, not just the page (LIMIT -1: no limit)
            (total,) = db.execute(f"SELECT COUNT(*) FROM ({sql})", [*params[:-1], -1]).fetchone()
        ordered = sorted(timings)
        results.append({"query": text, "what": what, "matches": total, "p50_ms": round(statistics.median(ordered), 2),
                        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2)})  # fmt: skip
    journal.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000, help="messages to index (default 100,000)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query (default 30)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--index", type=Path, help="keep the generated index here and reuse it on later runs")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        path = args.index or Path(directory) / "index.sqlite3"
        seconds = 0.0 if path.exists() else build(path, args.messages)
        results = measure(path, args.runs)
        size = path.stat().st_size
        with sqlite3.connect(path) as db:
            (count,) = db.execute("SELECT COUNT(*) FROM messages").fetchone()
    report = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "sqlite": sqlite3.sqlite_version, "load_before": round(load, 2),
                    "load_after": round(os.getloadavg()[0], 2), "date": datetime.now(UTC).isoformat(timespec="minutes")},
        "messages": count, "seed": SEED, "index_seconds": round(seconds, 1), "index_mb": round(size / 1e6, 1),
        "queries": results, "target_p50_ms": 20,
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{count:,} messages indexed in {seconds:.1f} s ({size / 1e6:.0f} MB); {report['machine']}")
    print(f"{'p50 ms':>7} {'p95 ms':>7} {'matches':>8}  query")
    for row in results:
        flag = "" if row["p50_ms"] <= 20 else "  (over the 20 ms target)"
        print(
            f"{row['p50_ms']:7.2f} {row['p95_ms']:7.2f} {row['matches']:8,}  {row['query']}  [{row['what']}]{flag}"
        )


if __name__ == "__main__":
    main()
