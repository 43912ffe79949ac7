"""Priority rules the user tunes in the config (`[[priority]]` tables), without code.

Each rule has a `name`, conditions that must all hold (`source`: "email" or "feed"; `feed`: globs over
feed names; `sender`: addresses, or domains written `@example.com`, a domain's subdomains included;
`keyword`: words or phrases found, case-insensitively and as whole words, in the subject or text) and
one outcome: a `priority` ("low" .. "urgent") or a `boost` (levels up or down, -3 .. 3). The first
rule that matches a signal decides, so specific rules go first. The rule's name and what matched go
into the signal's reasons ("priority rule 'boss': from boss@corp.example"), which every card shows.

They apply where signals are made, so both modes see them: `PrioritizedTriage`
(orchestrator.extensions.priority_triage) wraps the mail's triage engine (the rules engine or the LLM
triage), and custom feeds apply them in `FeedContext.publish`. Trust
stays above them: a rule that raises priority never applies to mail whose From may be forged or that
the triage judged spam, and lifts a stranger's mail (a sender the user never wrote to, not a VIP, not
named by address in the rule) at most to "high"; lowering always applies. A priority decides the
order and which signals notify; it never decides what runs without approval (the capability model
alone does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.extensions.config import WORKER_NAME, Priority, check_glob

__all__ = ["LEVELS", "PriorityRule", "Subject", "apply_rules", "check_rules"]

LEVELS: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
ADDRESS = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
DOMAIN = re.compile(r"^@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
STRANGER_CEILING: Priority = "high"


class Subject(BaseModel):
    """What a rule looks at in a signal about to be stored."""

    source: Literal["email", "feed"]
    feed: str | None = None
    sender: str | None = Field(None, description="Address (lower case) of who wrote it, if known")
    text: str = Field("", description="Subject and text, searched for keywords")
    priority: Priority
    may_raise: bool = Field(True, description="False for a forged From or spam: rules only lower it")
    known: bool = Field(True, description="False for a stranger's mail: raised at most to high")


class PriorityRule(BaseModel):
    """One `[[priority]]` table."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Shown in the reasons: priority rule 'NAME'")
    source: Literal["email", "feed"] | None = Field(None, description="Only signals of this source")
    feed: list[str] = Field(default_factory=list, description="Only these custom feeds (globs)")
    sender: list[str] = Field(default_factory=list, description="Addresses or @domains (mail or feed)")
    keyword: list[str] = Field(default_factory=list, description="Words or phrases in subject or text")
    priority: Priority | None = Field(None, description="The resulting priority")
    boost: int | None = Field(None, ge=-3, le=3, description="Levels up (positive) or down (negative)")

    @model_validator(mode="after")
    def _complete(self) -> PriorityRule:
        where = f"priority rule {self.name!r}"
        if not WORKER_NAME.match(self.name):
            raise ValueError(f"{where}: name it with 1-32 lowercase letters, digits and _ (e.g. 'boss')")
        if (self.priority is None) == (self.boost is None):
            raise ValueError(
                f"{where}: give either `priority` (low .. urgent) or `boost` (-3 .. 3), one of them"
            )
        if self.boost == 0:
            raise ValueError(f"{where}: boost = 0 changes nothing; use 1 .. 3 to raise, -1 .. -3 to lower")
        if not (self.source or self.feed or self.sender or self.keyword):
            raise ValueError(f"{where}: it would match every signal; give source, feed, sender or keyword")
        if self.feed and self.source == "email":
            raise ValueError(f'{where}: `feed` matches custom feeds, not source = "email"')
        for pattern in self.feed:
            check_glob(pattern, f"{where}: feed")
        for sender in self.sender:
            if not (ADDRESS.match(sender) or DOMAIN.match(sender)):
                raise ValueError(
                    f"{where}: sender {sender!r} is neither an address (boss@corp.example) "
                    "nor a domain (@corp.example)"
                )
        if any(not word.strip() for word in self.keyword):
            raise ValueError(f"{where}: an empty keyword would match everything")
        return self

    def match(self, subject: Subject) -> str | None:
        """What matched, in words, when every condition holds; None otherwise."""
        if self.source and subject.source != self.source:
            return None
        why = (
            [f"from {subject.source}"]
            if self.source and not (self.feed or self.sender or self.keyword)
            else []
        )
        if self.feed:
            if subject.feed is None or not any(fnmatchcase(subject.feed, p) for p in self.feed):
                return None
            why.append(f"feed {subject.feed}")
        if self.sender:
            if not (subject.sender and self._sender_matches(subject.sender)):
                return None
            why.append(f"from {subject.sender}")
        if self.keyword:
            found = next((w for w in self.keyword if _has_words(subject.text, w)), None)
            if found is None:
                return None
            why.append(f"mentions {found!r}")
        return ", ".join(why)

    def _sender_matches(self, address: str) -> bool:
        address = address.lower()
        return any(
            address.endswith(pattern.lower()) or address.endswith("." + pattern.lower()[1:])
            if pattern.startswith("@")
            else address == pattern.lower()
            for pattern in self.sender
        )

    def names_address(self, address: str | None) -> bool:
        return bool(address) and address.lower() in {s.lower() for s in self.sender if not s.startswith("@")}

    def outcome(self, current: Priority) -> Priority:
        if self.priority is not None:
            return self.priority
        level = LEVELS.index(current) + (self.boost or 0)
        return LEVELS[max(0, min(level, len(LEVELS) - 1))]


def _has_words(text: str, phrase: str) -> bool:
    words = r"\s+".join(re.escape(part) for part in phrase.split())
    return re.search(rf"(?<!\w){words}(?!\w)", text, re.IGNORECASE) is not None


def check_rules(rules: Sequence[PriorityRule], feeds: Sequence[str]) -> None:
    """What one table cannot check: names are unique, and a plain `feed` name is a configured feed."""
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValueError(f"priority rule {rule.name!r}: two rules have this name; rename one")
        seen.add(rule.name)
        for pattern in rule.feed:
            if not any(c in pattern for c in "*?[") and pattern not in feeds:
                known = ", ".join(feeds) or "none"
                raise ValueError(
                    f"priority rule {rule.name!r}: no feed named {pattern!r} (the [feeds.NAME] tables: {known})"
                )


def apply_rules(rules: Sequence[PriorityRule], subject: Subject) -> tuple[Priority, str | None]:
    """The priority after the first matching rule, and the reason to show (None: no rule matched)."""
    for rule in rules:
        matched = rule.match(subject)
        if matched is None:
            continue
        wanted = rule.outcome(subject.priority)
        reason = f"priority rule {rule.name!r}: {matched}"
        if LEVELS.index(wanted) <= LEVELS.index(subject.priority):
            return wanted, reason
        if not subject.may_raise:
            return subject.priority, f"{reason}; not raised: the sender may be forged, or it looks like spam"
        if not subject.known and not rule.names_address(subject.sender):
            ceiling = min(LEVELS.index(wanted), LEVELS.index(STRANGER_CEILING))
            if ceiling < LEVELS.index(wanted):
                wanted = LEVELS[max(ceiling, LEVELS.index(subject.priority))]
                reason += f"; at most {STRANGER_CEILING}: you have never written to this sender"
        return wanted, reason
    return subject.priority, None
