"""Projects and the user's name and role, learned from the mail the user sends, with no language model.

The rule for projects, in one sentence: a project is a name the user's own mail keeps coming back to,
that is a subject's label before ": " ("Beacon: notes from today's sync") or a run of capitalised words
("Metrics for the Atlas update"), found in the subjects of at least two different threads the user
wrote in; generic words (weekdays, months, "review", "lunch", "feedback" ...) never make a project on
their own. Each project keeps the people the user wrote to about it and when the user last did.
The name and role come from the signature of sent mail: its first line when that is the sender's name
(else the From name), and the line under it, cut at " · ", " | " or ", " (the company follows).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "MIN_THREADS",
    "Project",
    "SentThread",
    "identity_from_signature",
    "learn_projects",
    "mentions",
    "subject_topic",
]

MIN_THREADS = 2
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv)\s*(\[\d+\])?\s*:\s*)+", re.I)
LABEL = re.compile(r"^([^:]{2,40}?):\s")
CAPITALISED_RUN = re.compile(r"\b(?:[A-Z][\w&'-]*|[A-Z0-9]{2,})(?:\s+(?:[A-Z][\w&'-]*|[A-Z0-9]{2,}))*")
WORD = re.compile(r"[\w'-]+")
GENERIC = set(
    """monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday weekly monthly daily
    january february march april may june july august september october november december
    re fwd fw hi hello thanks thank you fyi urgent quick reminder question questions agenda notes sync
    review draft feedback metrics update updates lunch coffee expense expenses report interview invitation
    invite meeting call heads-up incident spec timeline plan plans follow-up new the a an for of and to
    about from with on in at my our your i we q1 q2 q3 q4 all-hands offer sale welcome order receipt
    accepted declined updated canceled cancelled out office customer customers prd doc docs document deck
    slides senior junior staff principal lead head manager engineer engineering designer design analyst
    product director candidate intern""".split()
)
THREADS_KEPT = 300


class SentThread(BaseModel):
    """A thread the user wrote in, as the project rule needs it."""

    subject: str = Field(description="The subject without Re:/Fwd: prefixes")
    people: list[str] = Field(default_factory=list, description="Whom the user wrote to in it")
    last_sent: datetime


class Project(BaseModel):
    """Something the user works on: learned from their mail, or added by them."""

    name: str
    keywords: list[str] = Field(default_factory=list, description="Other words its subjects use")
    aliases: list[str] = Field(default_factory=list, description="Other names for it, from the user")
    people: list[str] = Field(default_factory=list, description="Whom the user writes to about it")
    last_seen: datetime | None = Field(None, description="When the user last wrote about it")
    threads: int = Field(0, description="Threads the user wrote in about it")
    source: Literal["learned", "user"] = "learned"

    @property
    def key(self) -> str:
        return self.name.lower()


def subject_topic(subject: str) -> str:
    """The subject without reply and forward prefixes."""
    return REPLY_PREFIX.sub("", subject).strip()


def _is_generic(phrase: str) -> bool:
    return all(word.lower() in GENERIC or word.isdigit() for word in WORD.findall(phrase))


def candidates(subject: str) -> set[str]:
    """The names a subject offers: its label before ': ' and its runs of capitalised words."""
    found = set()
    if (label := LABEL.match(subject)) and len(label.group(1).split()) <= 3:
        found.add(label.group(1).strip())
    found.update(run.group().strip() for run in CAPITALISED_RUN.finditer(subject))
    return {name for name in found if not _is_generic(name)}


def mentions(text: str, name: str) -> bool:
    """Whether `text` names `name` as whole words, ignoring case."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I) is not None


def learn_projects(threads: Iterable[SentThread], min_threads: int = MIN_THREADS) -> list[Project]:
    """The projects the rule finds in the threads the user wrote in, most recent first."""
    threads = list(threads)
    forms: Counter[str] = Counter(name for thread in threads for name in candidates(thread.subject))
    names: dict[tuple[str, ...], str] = {}
    for name, _ in forms.most_common():
        names.setdefault(_words(name), name)  # the spelling used most often
    longest = max((len(words) for words in names), default=0)
    phrases = [_phrases(thread.subject, longest) for thread in threads]
    about: dict[tuple[str, ...], list[SentThread]] = {}
    for thread, found in zip(threads, phrases, strict=True):
        for words in found & names.keys():
            about.setdefault(words, []).append(thread)
    projects = [
        _project(names[words], found) for words, found in about.items() if words and len(found) >= min_threads
    ]
    return _drop_contained(sorted(projects, key=lambda p: p.last_seen or datetime.min, reverse=True))


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in WORD.findall(text))


def _phrases(text: str, longest: int) -> set[tuple[str, ...]]:
    """Every run of up to `longest` words in `text`, lower case: a name is in a subject when its
    words are one of these (the whole-word match of `mentions`, without a regex per name)."""
    words = _words(text)
    return {words[i : i + n] for n in range(1, longest + 1) for i in range(len(words) - n + 1)}


def _project(name: str, about: list[SentThread]) -> Project:
    people = Counter(person for thread in about for person in thread.people)
    own = {word.lower() for word in WORD.findall(name)}
    words = Counter(
        word
        for thread in about
        for word in (w.lower().removesuffix("'s") for w in WORD.findall(thread.subject))
        if word not in GENERIC | own and not word.isdigit() and len(word) > 2
    )
    return Project(
        name=name,
        keywords=[word for word, count in words.most_common(3) if count >= 2],
        people=[person for person, _ in people.most_common(5)],
        last_seen=max(thread.last_sent for thread in about),
        threads=len(about),
    )


def _drop_contained(projects: list[Project]) -> list[Project]:
    """ "SSO" next to "SSO login" in the same threads is one project: keep the longer name."""
    longest = max((len(_words(project.name)) for project in projects), default=0)
    phrases = {id(project): _phrases(project.name, longest) for project in projects}
    kept = []
    for project in projects:
        words = _words(project.name)
        longer = [
            other
            for other in projects
            if other is not project and words in phrases[id(other)] and other.threads >= project.threads
        ]
        if not longer:
            kept.append(project)
    return kept


def identity_from_signature(signature: str, from_name: str) -> tuple[str | None, str | None]:
    """(name, role) from a sent message's signature block and From name; None where it says nothing."""
    lines = [line.strip() for line in signature.splitlines() if line.strip() and line.strip() != "--"]
    name = from_name.strip() or None
    if not lines:
        return name, None
    if name is None and len(lines[0].split()) in (2, 3) and not any(c.isdigit() for c in lines[0]):
        name = lines[0]
    if name is None or lines[0].lower() != name.lower() or len(lines) < 2:
        return name, None
    role = re.split(r"\s+[·|]\s+|,\s+", lines[1])[0].strip()
    looks_like_role = role and len(role) <= 60 and not re.search(r"[@/\d+]", role)
    return name, role if looks_like_role else None
