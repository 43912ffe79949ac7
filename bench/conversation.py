"""Rules-mode conversation: how well Pepper understands everyday requests without a language model.

    .venv/bin/python bench/conversation.py                  # the engine on the development split
    .venv/bin/python bench/conversation.py --reader today   # rules-mode chat before the engine
    .venv/bin/python bench/conversation.py --json           # the same, machine-readable
    .venv/bin/python bench/conversation.py --final-report   # + the reserved split: closing figures ONLY
    .venv/bin/python bench/conversation.py --demo           # + reply latency acting on the demo (~1 min)

The corpus is `bench/data/conversation/` (see its README): hand-written utterances with their intent
and slots, each file under a fixed clock and timezone, so the figures do not depend on the day.
Figures: intent accuracy; slot accuracy (date, time, person, item; counted where the intent is
right, an invented slot as wrong as a missed one); confidently wrong answers (a wrong intent answered
without a clarifying question; the help text is not an answer); the help text given to a request
that has an intent; the clarifying-question rate; and reading latency (recognition and slot filling,
in process). With `--demo`, a seeded sample of the development utterances is also answered for
real by a Pepper on generated demo data (reading and acting over MCP): the reply latency a user
sees. Every fifth utterance is reserved and read only with `--final-report`.
"""

# ruff: noqa: E402 - sys.path must be repaired before the standard library is imported further
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, where bench/calendar.py would shadow the
# standard library's calendar module: drop it, and put the repo root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime

import anyio

from bench.conversation_eval.corpus import CORPUS, CorpusFileError, load_utterances
from bench.conversation_eval.score import Reader, render, score

ROOT = Path(__file__).resolve().parents[1]
SEED = 15


def machine() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return done.stdout

    changed = git("status", "--porcelain", "--", "orchestrator", "bench")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short=12", "HEAD").strip(),
        "uncommitted": [line[3:] for line in changed.splitlines()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "corpus": str(CORPUS.relative_to(ROOT)),
    }


def reader(name: str) -> Reader:
    if name == "today":
        from bench.conversation_eval.today import read_today

        return read_today
    from bench.conversation_eval.engine import read_engine

    return read_engine


def run(args: argparse.Namespace) -> dict:
    report: dict = {"machine": machine(), "reader": args.reader, "splits": {}}
    splits = ["dev", "reserved"] if args.final_report else ["dev"]
    for split in splits:
        utterances = load_utterances(split, final_report=args.final_report)
        # The reserved split gives figures only: none of its utterances is shown, so none is studied.
        shown = args.examples if split == "dev" else 0
        report["splits"][split] = score(utterances, reader(args.reader), shown)
    if args.demo and args.reader == "engine":
        from bench.conversation_eval.replies import measure_replies

        dev = load_utterances("dev")
        report["demo_replies"] = anyio.run(measure_replies, dev, args.sample, SEED)
    report["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--demo", action="store_true", help="also answer a sample for real on demo data")
    parser.add_argument("--sample", type=int, default=80, help="utterances answered on the demo (seeded)")
    parser.add_argument(
        "--reader", choices=["engine", "today"], default="engine",
        help="engine: orchestrator.conversation; today: rules-mode chat before it (the BEFORE figures)",
    )  # fmt: skip
    parser.add_argument(
        "--examples", type=int, default=10, help="errors listed of each kind (dev split only)"
    )
    parser.add_argument(
        "--final-report", action="store_true",
        help="also measure the reserved (unseen) split: for the closing figures of a change only",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except CorpusFileError as exc:
        raise SystemExit(f"conversation bench: {exc}") from exc
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))


if __name__ == "__main__":
    main()
