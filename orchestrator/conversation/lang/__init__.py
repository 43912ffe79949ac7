"""Per-language phrase tables for the conversation engine: the words for days, months and times,
the patterns that name each intent and its slots, typo repairs, and the clarifying questions.

A language is one `Language` value; the engine (`dates`, `intents`) reads only these tables, so
another language is added as a module beside `en.py` and an entry in `LANGUAGES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LANGUAGES", "Language", "compile_all"]


def compile_all(patterns: list[str] | tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


@dataclass(frozen=True)
class Language:
    code: str
    typos: dict[str, str]  # fixed repairs for short or odd spellings ("tmrw" → "tomorrow")
    vocabulary: frozenset[str]  # words a misspelling may be repaired to (by similarity)
    weekdays: dict[str, int]  # name → 0 (Monday) .. 6
    months: dict[str, int]
    numbers: dict[str, int]  # "two" → 2, "an" → 1
    ordinals: dict[str, int]  # "first" → 1, "2nd" → 2
    units: dict[str, int]  # duration word → seconds
    part_hours: dict[str, str]  # part of day → the clock time a reminder gets
    part_windows: dict[str, tuple[int, int]]  # part of day → hours looked at (free time, agenda)
    date_patterns: dict[str, tuple[re.Pattern[str], ...]]  # kind → patterns (named groups per kind)
    polite: re.Pattern[str]  # "please", "can you" ...: dropped before reading
    intents: tuple[tuple[str, re.Pattern[str]], ...]  # in order: the first that matches wins
    persons: dict[str, tuple[re.Pattern[str], ...]]  # intent → patterns with a `name` group
    name_stopwords: frozenset[str]
    topics: dict[str, tuple[re.Pattern[str], ...]]  # intent → patterns with a `topic` group
    topic_noise: frozenset[str]  # words dropped around a topic ("emails", "thread")
    items: dict[str, tuple[re.Pattern[str], ...]]  # item kind → patterns
    item_pronouns: dict[str, re.Pattern[str]]  # intent → how "this" is said for it
    message: tuple[re.Pattern[str], ...]  # what to strip to leave a reminder's text
    body: tuple[re.Pattern[str], ...]  # a reply draft's sentence (group `body`)
    questions: dict[str, str]
    help_lines: dict[str, str]  # intent → an example request, for the help text
    help_intro: str
    extra: dict[str, str] = field(default_factory=dict)
    # a word a date pattern captures → the English value `dates` reads: a direction (`dir`: "next",
    # "this", "since", "last", "on"), `noon` ("noon", "midnight"), `ap` ("am", "pm")
    canonical: dict[str, str] = field(default_factory=dict)
    # correction kind ("never", "not_important") → how it is said; anything else is "important"
    corrections: dict[str, re.Pattern[str]] = field(default_factory=dict)
    # part of day → hours whose meetings "this morning" lists (else `part_windows`)
    agenda_windows: dict[str, tuple[int, int]] = field(default_factory=dict)


def _languages() -> dict[str, Language]:
    from orchestrator.conversation.lang.en import ENGLISH

    return {"en": ENGLISH}


LANGUAGES = _languages()
