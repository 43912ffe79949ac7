"""The labelled phrasing corpus (`bench/data/conversation/*.tsv`): what users ask, what they mean.

Each file fixes a reference moment and a timezone in its header (`# now: ...`, `# timezone: ...`);
each row is an utterance, its intent and its slots (`date=2026-03-12; time=15:00; person=tom`), and
the flag `clarify` where a careful assistant must ask before acting. Every fifth row of each file is
reserved: `load_utterances("reserved")` refuses unless called with `final_report=True`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["CORPUS", "SLOTS", "CorpusFileError", "ReservedSplitError", "Utterance", "load_utterances"]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "conversation"
SLOTS = ("date", "time", "person", "item")  # the measured slots; `topic` is reported on its own
HEADER = re.compile(r"^#\s*(now|timezone):\s*(\S+)")
RESERVED_EVERY = 5


class CorpusFileError(ValueError):
    """A corpus file or row is malformed; the message names the file and row."""


class ReservedSplitError(PermissionError):
    """The reserved (unseen) split was asked for outside a final report."""


@dataclass(frozen=True)
class Utterance:
    source: str  # "agenda.tsv:12"
    text: str
    intent: str
    now: datetime
    slots: dict[str, str] = field(default_factory=dict)
    clarify: bool = False


def load_utterances(
    split: str = "dev", *, final_report: bool = False, folder: Path = CORPUS
) -> list[Utterance]:
    """The utterances of `split` ("dev" or "reserved") over every file, in file order."""
    if split not in ("dev", "reserved"):
        raise ValueError(f"unknown split {split!r}: use 'dev' or 'reserved'")
    if split == "reserved" and not final_report:
        raise ReservedSplitError(
            "the reserved utterances are for the closing figures only: pass final_report=True"
        )
    chosen: list[Utterance] = []
    for path in sorted(folder.glob("*.tsv")):
        for number, utterance in enumerate(_read_file(path), start=1):
            if (number % RESERVED_EVERY == 0) == (split == "reserved"):
                chosen.append(utterance)
    return chosen


def _read_file(path: Path) -> list[Utterance]:
    header: dict[str, str] = {}
    rows: list[Utterance] = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := HEADER.match(line):
            header[match.group(1)] = match.group(2)
        if line.startswith("#") or not line.strip():
            continue
        if "now" not in header or "timezone" not in header:
            raise CorpusFileError(f"{path.name}: the header needs '# now: ISO' and '# timezone: ZONE' lines")
        now = datetime.fromisoformat(header["now"]).replace(tzinfo=ZoneInfo(header["timezone"]))
        rows.append(_row(line, now, f"{path.name}:{line_number}"))
    return rows


def _row(line: str, now: datetime, source: str) -> Utterance:
    parts = line.split("\t")
    if len(parts) != 3 or not parts[0].strip() or not parts[1].strip():
        raise CorpusFileError(f"{source}: want utterance<TAB>intent<TAB>slots, got {line!r}")
    slots: dict[str, str] = {}
    clarify = False
    for part in filter(None, (p.strip() for p in parts[2].split(";"))):
        if part == "clarify":
            clarify = True
            continue
        key, sep, value = part.partition("=")
        if not sep or not value:
            raise CorpusFileError(f"{source}: slot {part!r} is not key=value")
        slots[key] = value
    return Utterance(source, parts[0].strip(), parts[1].strip(), now, slots, clarify)
