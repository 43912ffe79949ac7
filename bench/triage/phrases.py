"""The labelled deadline phrases (`bench/data/deadline_phrases.tsv`) and how the detector scores.

Each row is a bit of mail text, the moment it was received ("now"), the date a careful reader would
put in their diary as the deadline, or NONE, and the phrase's family. Every fifth row is reserved:
`load_phrases("reserved")` refuses unless called with `final_report=True`. A detection is right when
its date is within one day of the expected one; a wrong date counts as a false positive and a miss.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bench.triage.corpus import ReservedSplitError
from orchestrator.triage.deadlines import find_deadlines

__all__ = ["PHRASES", "Phrase", "PhraseFileError", "detect_deadlines", "load_phrases", "score_phrases"]

PHRASES = Path(__file__).resolve().parents[1] / "data" / "deadline_phrases.tsv"
COLUMNS = ["number", "split", "family", "now", "expected", "phrase"]
TOLERANCE_DAYS = 1

Detector = Callable[[str, datetime], list[date]]


class PhraseFileError(ValueError):
    """A row of the phrase file is malformed; the message names the row."""


@dataclass(frozen=True)
class Phrase:
    number: int
    split: str  # "dev" | "reserved"
    family: str  # e.g. "weekday", "trap_bare_number"
    now: datetime
    expected: date | None  # None: no deadline here
    text: str


def load_phrases(split: str = "dev", *, final_report: bool = False, path: Path = PHRASES) -> list[Phrase]:
    """The phrases of `split`; the reserved ones only for a final report."""
    if split not in ("dev", "reserved"):
        raise ValueError(f"unknown split {split!r}: use 'dev' or 'reserved'")
    if split == "reserved" and not final_report:
        raise ReservedSplitError(
            "the reserved deadline phrases are for the closing figures only: pass final_report=True"
        )
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(
            csv.DictReader(
                (line for line in stream if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE
            )
        )
    return [phrase for phrase in map(_phrase, rows) if phrase.split == split]


def _phrase(row: dict[str, str]) -> Phrase:
    try:
        number = int(row["number"])
        expected = None if row["expected"] == "NONE" else date.fromisoformat(row["expected"])
        now = datetime.fromisoformat(row["now"])
        if now.tzinfo is None or row["split"] not in ("dev", "reserved") or not row["phrase"].strip():
            raise ValueError("needs a timezone on now, a dev/reserved split and a phrase")
        return Phrase(number, row["split"], row["family"], now, expected, row["phrase"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PhraseFileError(f"deadline phrase row {row.get('number')!r}: {exc}") from exc


def detect_deadlines(text: str, now: datetime) -> list[date]:
    """The dates the rules engine's deadline detector finds in `text` received at `now`."""
    return [deadline.due.date() for deadline in find_deadlines(text, now)]


def _close(found: date, expected: date) -> bool:
    return abs((found - expected).days) <= TOLERANCE_DAYS


def score_phrases(phrases: list[Phrase], detector: Detector = detect_deadlines) -> dict:
    """Precision and recall of `detector` over `phrases`, per family too, with every error listed."""
    right = detected = expected = 0
    families: dict[str, dict[str, int]] = {}
    false_positives: list[dict] = []
    misses: list[dict] = []
    for phrase in phrases:
        found = detector(phrase.text, phrase.now)
        hit = phrase.expected is not None and any(_close(day, phrase.expected) for day in found)
        tally = families.setdefault(phrase.family, {"phrases": 0, "right": 0, "wrong": 0})
        tally["phrases"] += 1
        detected += bool(found)
        expected += phrase.expected is not None
        right += hit
        row = {"number": phrase.number, "family": phrase.family, "phrase": phrase.text}
        row |= {"expected": str(phrase.expected or "NONE"), "found": [str(day) for day in found]}
        if found and not hit:
            false_positives.append(row)
        if phrase.expected is not None and not hit:
            misses.append(row)
        correct = hit or (phrase.expected is None and not found)
        tally["right" if correct else "wrong"] += 1
    return {
        "phrases": len(phrases),
        "with_deadline": expected,
        "detected": detected,
        "right": right,
        "precision_pct": round(100.0 * right / detected, 1) if detected else 0.0,
        "recall_pct": round(100.0 * right / expected, 1) if expected else 0.0,
        "families": dict(sorted(families.items())),
        "false_positives": false_positives,
        "misses": misses,
    }
