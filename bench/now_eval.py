"""The Now list on a labelled personal mailbox: precision, recall and the correction bar, before and after.

    .venv/bin/python bench/now_eval.py              # development mailboxes (seeds 101-104), a table
    .venv/bin/python bench/now_eval.py --test       # + the test mailboxes (seeds 201-204, held-out families)
    .venv/bin/python bench/now_eval.py --json       # the same, machine-readable
    .venv/bin/python bench/now_eval.py --boxes 1    # one mailbox per split, for a quick look

The mailboxes are generated at run time (`bench/triage/mailbox.py`; labelling rules in
`bench/data/README.md`), with spam from the SpamAssassin development split (fetched into the
bench cache like `bench/triage_eval.py` does; the reserved split is never read here). Figures:
Now precision (share of cards labelled needs-attention) and recall of needs-attention, spam and
bulk cards, for the old rule (before), the ranker's attention set and the budgeted Now (after);
deadline recall on the mail that sets one; whether one "Not important" takes the sender's later
mail out of Now; whether N spam corrections ("Not important", "Never") make alike spam from other
senders score lower (`bench/triage/now_lessons.py`). Tune on the development mailboxes only.
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
from datetime import UTC, datetime

from bench.triage.corpus import PACKAGE, CorpusError, load_corpus
from bench.triage.mailbox import DEV, TEST, build_mailbox
from bench.triage.now_eval import judge_mailbox, now_figures
from bench.triage.now_lessons import spam_lessons, summed
from orchestrator.triage.now import NOW_LIMIT


def run(args: argparse.Namespace) -> dict:
    spam = [m for m in load_corpus("dev") if m.label == "spam"]
    splits = {"dev": (list(DEV)[: args.boxes], spam[0::2], False)}
    if args.test:
        splits["test"] = (list(TEST)[: args.boxes], spam[1::2], True)
    report: dict = {"machine": {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "platform": platform.platform(),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2), "spam_from": f"{PACKAGE} spam-1 (dev split)",
        "now_limit": NOW_LIMIT,
    }}  # fmt: skip
    for split, (seeds, pool, held_out) in splits.items():
        boxes = []
        for seed in seeds:
            box = build_mailbox(seed, pool, held_out)
            judged, failures = judge_mailbox(box)
            boxes.append((box, judged, failures))
        report[split] = now_figures(boxes, args.examples)
        if args.corrections:
            report[split]["spam_lessons"] = [
                summed([spam_lessons(box, args.corrections, kind) for box, _, _ in boxes])
                for kind in ("not_important", "never")
            ]
    report["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    return report


def render(report: dict) -> str:
    lines = [f"{k}: {v}" for k, v in report["machine"].items()]
    for split in ("dev", "test"):
        if split not in report:
            continue
        f = report[split]
        lines += ["", f"== {split}: {f['mailboxes']} mailboxes, {f['messages']} messages {f['labels']} ==",
                  f"parse failures {f['parse_failures']}",
                  f"{'':24}{'cards':>7}{'precision':>11}{'recall':>8}{'spam':>6}{'bulk':>6}"]  # fmt: skip
        for name, key in (("before (old rule)", "before"), ("after: attention set", "after_attention"),
                          (f"Now, mail only (<= {NOW_LIMIT})", "after_now_mail_only"),
                          (f"after: Now (<= {NOW_LIMIT}/box)", "after_now")):  # fmt: skip
            row = f[key]
            lines.append(
                f"{name:24}{row['cards']:>7}{_pct(row['precision_pct']):>11}{_pct(row['recall_pct']):>8}"
                f"{row['spam_cards']:>6}{row['bulk_cards']:>6}"
            )
        lines.append("beside mail: " + "; ".join(
            f"{kind}: {b['needs_attention_in_now']} of {b['needs_attention']} needing the user in Now, "
            f"{b['others_in_now']} other cards in Now (of {b['cards']})" for kind, b in f["beside_mail"].items()))  # fmt: skip
        d = f["deadlines"]
        lines.append(f"deadlines: {d['found_within_a_day']}/{d['expected']} expected found within a day; "
                     f"found on {d['found_on_mail_with_none_expected']} mails with none expected")  # fmt: skip
        lines += [f"  unexpected: {e}" for e in d["unexpected_examples"]]
        lines.append(f"needs-attention mail whose ask was found: {_pct(f['asks_found_pct'])}")
        c = f["correction"]
        lines.append(f"one 'Not important': {c.get('later_mail_still_in_now', 0)} of "
                     f"{c.get('senders_corrected', 0)} senders still had later mail in Now")  # fmt: skip
        lines += _lesson_lines(f.get("spam_lessons", []))
        lines.append("per mailbox: " + "; ".join(
            f"{b['seed']}: Now {b['now_cards']} of {b['attention']} (before {b['before_cards']})"
            for b in f["per_mailbox"]))  # fmt: skip
        if f["held_out_families"]:
            lines.append("held-out families (in Now after / before): " + ", ".join(
                f"{k} {v['in_now']}/{v['before_in_now']} of {v['messages']}"
                for k, v in f["held_out_families"].items()))  # fmt: skip
        lines += ["needs-attention not in Now:", *[f"  {e}" for e in f["misses"]]]
        lines += ["cards in Now not labelled needs-attention:", *[f"  {e}" for e in f["wrong_cards"]]]
    return "\n".join(lines)


def _lesson_lines(lessons: list[dict]) -> list[str]:
    lines = []
    for lesson in lessons:
        kind = lesson["kind"].replace("_", " ")
        lines.append(f"after {lesson['corrected']} '{kind}' on spam ({lesson['mailboxes']} mailboxes, a model blind "
                     "to their spam), before -> after:")  # fmt: skip
        for group in ("other_senders", "alike"):
            b, a = lesson["before"][group], lesson["after"][group]
            if not b["messages"]:
                continue
            lines.append(
                f"  {group.replace('_', ' ')}' spam ({b['messages']}): spam log-odds {b['mean_spam_log_odds']} -> "
                f"{a['mean_spam_log_odds']}, called spam {b['called_spam']} -> {a['called_spam']}, ranker score "
                f"{b['mean_ranker_score']} -> {a['mean_ranker_score']}, in Now {b['in_now']} -> {a['in_now']}"
            )
        b, a = lesson["before"], lesson["after"]
        lines.append(
            f"  cost: strangers' mail not spam called spam by the model {b['strangers_mail_not_spam_called_spam']} -> "
            f"{a['strangers_mail_not_spam_called_spam']}, put in the spam category "
            f"{b['strangers_mail_not_spam_in_spam_category']} -> {a['strangers_mail_not_spam_in_spam_category']}; "
            f"needs-attention from strangers in Now "
            f"{b['needs_attention_in_now']} -> {a['needs_attention_in_now']}"
        )
    return lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--test", action="store_true", help="also the test mailboxes (held-out families)")
    parser.add_argument("--boxes", type=int, default=4, help="mailboxes per split (1-4)")
    parser.add_argument("--examples", type=int, default=10, help="mails listed behind each bad figure")
    parser.add_argument(
        "--corrections",
        type=int,
        default=5,
        help="spam corrections per mailbox in the lesson check (0: skip)",
    )
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except CorpusError as exc:
        raise SystemExit(f"now_eval: {exc}") from exc
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))


if __name__ == "__main__":
    main()
