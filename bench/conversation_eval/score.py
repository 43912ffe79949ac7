"""Scoring a reader over the phrasing corpus: intent and slot accuracy, the confidently wrong
answers a user would act on, clarifying questions, and how long reading takes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bench.conversation_eval.corpus import SLOTS, Utterance

__all__ = ["Reading", "Reader", "render", "score"]

HELP_TEXT = {"unknown", "help"}  # both answer with the list of what Pepper can do


@dataclass
class Reading:
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    question: str | None = None  # a clarifying question instead of an answer


Reader = Callable[[str, datetime], Reading]


def _topic(value: str | None) -> str | None:
    if value is None:
        return None
    words = [w for w in value.lower().replace("'s", "").split() if w not in ("the", "a", "an", "my")]
    return " ".join(words)


def score(utterances: list[Utterance], reader: Reader, examples: int = 0) -> dict:
    """The figures of `reader` over `utterances`, with up to `examples` errors of each kind listed."""
    tally = {"utterances": len(utterances), "intent_right": 0, "confidently_wrong": 0, "questions": 0}
    tally |= {"help_for_placeable": 0, "questions_expected": 0, "questions_expected_asked": 0}
    slots = {name: {"right": 0, "compared": 0} for name in (*SLOTS, "topic")}
    per_intent: dict[str, dict[str, int]] = {}
    errors: dict[str, list[dict]] = {"intent": [], "slot": [], "confidently_wrong": []}
    latencies: list[float] = []
    for utterance in utterances:
        started = time.perf_counter()
        reading = reader(utterance.text, utterance.now)
        latencies.append((time.perf_counter() - started) * 1000)
        right = reading.intent == utterance.intent
        row = {"source": utterance.source, "text": utterance.text, "expected": utterance.intent}
        row |= {"got": reading.intent, "slots": reading.slots, "question": reading.question}
        _tally_intent(tally, per_intent, utterance, reading, right, errors, row)
        if right:
            _tally_slots(slots, utterance, reading, errors["slot"], row)
    return _figures(tally, slots, per_intent, latencies, errors, examples)


def _tally_intent(tally, per_intent, utterance, reading, right, errors, row) -> None:
    counts = per_intent.setdefault(utterance.intent, {"utterances": 0, "right": 0})
    counts["utterances"] += 1
    counts["right"] += right
    tally["intent_right"] += right
    tally["questions"] += reading.question is not None
    tally["questions_expected"] += utterance.clarify
    tally["questions_expected_asked"] += utterance.clarify and reading.question is not None
    if not right:
        errors["intent"].append(row)
    if not right and reading.question is None and reading.intent not in HELP_TEXT:
        tally["confidently_wrong"] += 1
        errors["confidently_wrong"].append(row)
    if utterance.intent not in HELP_TEXT and reading.intent in HELP_TEXT:
        tally["help_for_placeable"] += 1


def _tally_slots(slots, utterance, reading, errors, row) -> None:
    """Slot accuracy counts only where the intent is right: each slot labelled or produced is one
    comparison, so a slot the reader invents is as wrong as one it misses."""
    wrong = []
    for name, counts in slots.items():
        expected, got = utterance.slots.get(name), reading.slots.get(name)
        if name == "topic":
            expected, got = _topic(expected), _topic(got)
        if expected is None and got is None:
            continue
        counts["compared"] += 1
        counts["right"] += expected == got
        if expected != got:
            wrong.append(f"{name}: expected {expected!r}, got {got!r}")
    if wrong:
        errors.append(row | {"wrong": wrong})


def _ratio(right: int, total: int) -> float | None:
    return round(right / total, 4) if total else None


def _figures(tally, slots, per_intent, latencies, errors, examples) -> dict:
    total = tally["utterances"]
    measured = [slots[name] for name in SLOTS]
    ordered = sorted(latencies)
    return {
        "utterances": total,
        "intents": len(per_intent),
        "intent_accuracy": _ratio(tally["intent_right"], total),
        "slot_accuracy": _ratio(sum(s["right"] for s in measured), sum(s["compared"] for s in measured)),
        "slots": {
            name: counts | {"accuracy": _ratio(counts["right"], counts["compared"])}
            for name, counts in slots.items()
        },
        "confidently_wrong": tally["confidently_wrong"],
        "help_for_placeable": tally["help_for_placeable"],
        "clarifying_question_rate": _ratio(tally["questions"], total),
        "expected_questions_asked": f"{tally['questions_expected_asked']}/{tally['questions_expected']}",
        "latency_ms": {
            "p50": round(statistics.median(ordered), 3) if ordered else None,
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3) if ordered else None,
        },
        "per_intent": {
            name: c | {"accuracy": _ratio(c["right"], c["utterances"])}
            for name, c in sorted(per_intent.items())
        },
        "errors": {kind: rows[:examples] for kind, rows in errors.items()},
    }


def render(report: dict) -> str:
    """The report as plain text: the machine, then each split's figures, then the listed errors."""
    lines = [f"{key}: {value}" for key, value in report["machine"].items()]
    for split, figures in report["splits"].items():
        lines += ["", f"== {report['reader']} on the {split} split =="]
        lines.append(f"utterances {figures['utterances']} over {figures['intents']} intents")
        lines.append(f"intent accuracy      {_pct(figures['intent_accuracy'])}")
        lines.append(f"slot accuracy        {_pct(figures['slot_accuracy'])}  (date, time, person, item)")
        for name, counts in figures["slots"].items():
            lines.append(f"  {name:<8} {_pct(counts['accuracy'])}  ({counts['right']}/{counts['compared']})")
        lines.append(f"confidently wrong    {figures['confidently_wrong']}")
        lines.append(f"help text for a placeable request  {figures['help_for_placeable']}")
        lines.append(
            f"clarifying questions {_pct(figures['clarifying_question_rate'])}"
            f" (expected ones asked: {figures['expected_questions_asked']})"
        )
        lines.append(
            f"reading latency ms   p50 {figures['latency_ms']['p50']}  p95 {figures['latency_ms']['p95']}"
        )
        weak = [f"{n} {_pct(c['accuracy'])}" for n, c in figures["per_intent"].items() if c["accuracy"] < 1]
        lines.append("intents below 100%: " + (", ".join(weak) or "none"))
        for kind, rows in figures["errors"].items():
            for row in rows:
                detail = "; ".join(row.get("wrong", [])) or f"got {row['got']} {row['slots']}"
                lines.append(f"  [{kind}] {row['source']} {row['text']!r} ({row['expected']}): {detail}")
    if demo := report.get("demo_replies"):
        lines += [
            "",
            f"== replies acting on the demo ({demo['replies']} utterances, seeded sample of dev) ==",
        ]
        lines.append(f"reply latency ms     p50 {demo['p50_ms']}  p95 {demo['p95_ms']}  max {demo['max_ms']}")
        if "calls_mean" in demo:
            lines.append(f"MCP calls per reply  mean {demo['calls_mean']}  p95 {demo['calls_p95']}")
        lines.append("slowest: " + ", ".join(demo["slowest"]))
        lines += [f"  [error] {error}" for error in demo["errors"]]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
