"""The per-user ranker: a linear model over social, thread, addressing and rules features that says
how much a mail needs the user now, and learns from the user's corrections.

In the spirit of Gmail's Priority Inbox (Aberdeen, Pacovsky & Slater, 2010): one score per message,
`w·x` over features computed from the mailbox history (`features_of`), compared with a threshold
(0): above it a mail may take a place in Now (`orchestrator.triage.now`). The rules engine's verdict
is itself a feature (its priority, whether it asks the user, a deadline within 48 h), so the rules
keep their say and the trust rules keep theirs: the priority the rules gave is never changed here,
and a sender whose From cannot be believed (`SenderTrust.suspicious`, a forged own address) gets no
benefit from any correction, so "Important" on a forgery never lifts the forger's next mail.

Each sender and mailing list also gets a weight of its own, learned only from corrections:
"Important" and "Not important" move the shared weights by one logistic-regression step and the
sender's (or list's) own weight by a passive-aggressive step, just enough to put the corrected mail
a margin beyond the threshold; so the sender's next mail, alike in kind, lands on the same side at
once. "Never" mutes a sender or a list outright. The weights below are the prior, written before
any evaluation (see `bench/triage/mailbox.py` for how they were measured).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import SenderTrust
from orchestrator.feeds.waiting_on_me import waits_on_user

__all__ = [
    "PRIOR",
    "THRESHOLD",
    "CorrectionKind",
    "RankKeys",
    "Ranker",
    "features_of",
    "keys_of",
]

CorrectionKind = Literal["important", "not_important", "never"]
THRESHOLD = 0.0
MARGIN = 2.0  # how far past the threshold a correction puts the corrected mail
NOT_IMPORTANT_FLOOR = -4.0  # a sender marked not important stays below this: their urgent mail too
LEARNING_RATE = 0.1
LEVELS = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIOR: dict[str, float] = {
    "bias": -3.2,
    "priority": 2.4,  # the rules' level, 0 (low) .. 1 (urgent)
    "vip": 1.2,  # a VIP of the user's (and the From can be believed)
    "wrote_to": 0.4,  # the user's Sent mail went to the sender
    "replied_to": 0.3,  # ... as replies, log-scaled
    "domain_known": 0.1,  # the user wrote to someone at the sender's domain
    "thread": 0.2,  # the user wrote in this thread
    "answered": -2.0,  # ... after this mail: the user already answered it
    "direct": 0.3,  # the user is in To
    "cc_only": -0.7,
    "list": -2.0,  # bulk, automated or mailing-list mail
    "spam": -3.0,
    "suspicious": -1.5,  # a forged or borrowed From
    "asks": 0.6,  # asks the user something directly
    "asks_known": 1.2,  # ... and the user knows the sender: mail that waits on the user
    "invitation": 1.5,  # a calendar invitation from someone the user knows, to answer
    "deadline_soon": 1.2,  # a deadline within 48 h, from a trusted sender
    "unanswered_sender": -0.5,  # much mail from this sender and the user never wrote back
    "stale": -1.5,  # more than a week old
    "seen": -1.0,  # already read
}
WHY = {
    "priority": "ranked {level} by the rules",
    "vip": "a VIP",
    "wrote_to": "you write to this sender",
    "replied_to": "you reply to this sender",
    "thread": "a thread you wrote in",
    "answered": "you already answered it",
    "direct": "addressed to you",
    "cc_only": "you are only in Cc",
    "list": "bulk or list mail",
    "spam": "looks like spam",
    "suspicious": "the sender may be forged",
    "asks": "asks you something",
    "asks_known": "someone you know asks you",
    "invitation": "an invitation to answer",
    "deadline_soon": "a deadline within 48 h",
    "unanswered_sender": "much mail from someone you never answer",
    "stale": "more than a week old",
    "seen": "already read",
}


class RankKeys(BaseModel):
    """Whom a mail's own weights belong to, and whether a correction may lift it."""

    sender: str = ""
    domain: str = ""
    list_id: str = ""
    believed: bool = Field(True, description="Nothing says the From is forged: corrections may lift it")


def keys_of(email: Email, trust: SenderTrust) -> RankKeys:
    sender = email.sender.email.lower() if email.sender else ""
    list_id = (email.list_headers.list_id or "").strip().lower()[:200]
    return RankKeys(
        sender=sender,
        domain=sender.rpartition("@")[2],
        list_id=list_id,
        believed=not trust.suspicious and not trust.own_address,
    )


def _log_scaled(count: int, full: int = 10) -> float:
    return min(math.log1p(max(count, 0)) / math.log1p(full), 1.0)


def features_of(
    email: Email,
    profile: UserProfile,
    trust: SenderTrust,
    verdict: dict,
    *,
    received: int,
    stale: bool,
    deadline_soon: bool,
) -> dict[str, float]:
    """The shared features of one mail: `verdict` is the rules' (priority, category, action_items);
    `received` how many mails the sender sent the user so far."""
    address = trust.address
    known = trust.known and not trust.suspicious
    domain = address.rpartition("@")[2]
    direct = any(profile.is_user(m) for m in email.to)
    category = verdict.get("category", "")
    thread = profile.threads.get(email.thread_id) if email.thread_id else None
    asks = bool(verdict.get("action_items"))
    answered = thread is not None and thread.last_sent > email.date
    waiting = waits_on_user(
        addressed=direct or any(profile.is_user(m) for m in email.cc),
        from_user=profile.is_user(email.sender),
        asks=asks,
        answered_after=answered,
    )
    return {
        "bias": 1.0,
        "priority": LEVELS.get(verdict.get("priority", "normal"), 1) / 3,
        "vip": 1.0 if trust.vip and trust.trusted else 0.0,
        "wrote_to": 1.0 if known and profile.sent_to.get(address, 0) else 0.0,
        "replied_to": _log_scaled(profile.replied_to.get(address, 0)) if known else 0.0,
        "domain_known": 1.0 if domain and any(a.endswith("@" + domain) for a in profile.sent_to) else 0.0,
        "thread": 1.0 if thread is not None else 0.0,
        "answered": 1.0 if answered else 0.0,
        "direct": 1.0 if direct else 0.0,
        "cc_only": 1.0 if not direct and any(profile.is_user(m) for m in email.cc) else 0.0,
        "list": 1.0 if category == "bulk" else 0.0,
        "spam": 1.0 if category == "spam" else 0.0,
        "suspicious": 1.0 if trust.suspicious or trust.own_address else 0.0,
        "asks": 1.0 if asks else 0.0,
        "asks_known": 1.0 if waiting and trust.trusted else 0.0,  # waits on the user (one detector)
        "invitation": 1.0 if trust.trusted and _invitation(email) else 0.0,
        "deadline_soon": 1.0 if deadline_soon and trust.trusted else 0.0,
        "unanswered_sender": _log_scaled(received, 20) if not trust.known else 0.0,
        "stale": 1.0 if stale else 0.0,
        "seen": 1.0 if email.labels and "UNREAD" not in email.labels else 0.0,
    }


def _invitation(email: Email) -> bool:
    return any(
        a.content_type in ("text/calendar", "application/ics") or a.name.lower().endswith(".ics")
        for a in email.attachments
    )


class Ranker(BaseModel):
    """The user's weights: shared ones (starting from `PRIOR`) and one per sender and per list."""

    weights: dict[str, float] = Field(default_factory=lambda: dict(PRIOR))
    senders: dict[str, float] = Field(default_factory=dict)
    lists: dict[str, float] = Field(default_factory=dict)
    never: set[str] = Field(default_factory=set, description="Muted senders and lists ('list:<id>')")

    def muted(self, keys: RankKeys) -> bool:
        return keys.sender in self.never or (bool(keys.list_id) and f"list:{keys.list_id}" in self.never)

    def own_weight(self, keys: RankKeys) -> float:
        """The weight of this sender and its list together; a lift only when believed."""
        own = self.senders.get(keys.sender, 0.0) + (
            self.lists.get(keys.list_id, 0.0) if keys.list_id else 0.0
        )
        return own if keys.believed else min(own, 0.0)

    def shared_score(self, features: dict[str, float]) -> float:
        return sum(self.weights.get(name, 0.0) * value for name, value in features.items())

    def score(self, features: dict[str, float], keys: RankKeys) -> float:
        """How much the mail needs the user now; above `THRESHOLD` it may be in Now."""
        if self.muted(keys):
            return -10.0
        return round(self.shared_score(features) + self.own_weight(keys), 4)

    def why(self, features: dict[str, float], keys: RankKeys, top: int = 3) -> list[str]:
        """The few features that moved this mail's score most, in words, and the user's own say."""
        if self.muted(keys):
            return [
                "you said: never from this sender" if keys.sender in self.never else "you muted this list"
            ]
        said = []
        own = self.own_weight(keys)
        if own:
            said.append(
                "you marked this sender important" if own > 0 else "you marked this sender not important"
            )
        moved = sorted(
            ((self.weights.get(n, 0.0) * v, n) for n, v in features.items() if v and n in WHY),
            key=lambda pair: -abs(pair[0]),
        )
        level = next(
            (name for name, value in LEVELS.items() if value / 3 == features.get("priority")), "normal"
        )
        return said + [WHY[name].format(level=level) for _, name in moved[: top - len(said)]]

    def correct(self, kind: CorrectionKind, features: dict[str, float], keys: RankKeys) -> None:
        """Learn from one correction of a mail with these features (empty: a correction of a sender
        with no mail at hand, which moves only the sender's weight)."""
        if kind == "never":
            self.never.add(f"list:{keys.list_id}" if keys.list_id else keys.sender)
            return
        wanted = 1.0 if kind == "important" else 0.0
        if kind == "important":
            self.never.discard(keys.sender)
            if keys.list_id:
                self.never.discard(f"list:{keys.list_id}")
        self._step(features, wanted, self._base(features) + self.own_weight(keys))
        table, key = (self.lists, keys.list_id) if keys.list_id else (self.senders, keys.sender)
        if not key:
            return
        target = THRESHOLD + MARGIN if wanted else THRESHOLD - MARGIN
        gap = target - (self._base(features) + self.own_weight(keys))
        if (gap > 0) == bool(wanted) and gap != 0:  # passive-aggressive: move only when on the wrong side
            table[key] = round(table.get(key, 0.0) + gap, 4)
        if not wanted:  # "not important" holds for the sender's pressing mail too, until "important"
            table[key] = min(table.get(key, 0.0), NOT_IMPORTANT_FLOOR)

    def _base(self, features: dict[str, float]) -> float:
        return self.shared_score(features) if features else THRESHOLD

    def _step(self, features: dict[str, float], wanted: float, score: float) -> None:
        """One logistic-regression step on the shared weights (never on the bias or the trust
        features, which the user's taste must not bend)."""
        error = wanted - 1 / (1 + math.exp(-max(min(score, 30.0), -30.0)))
        for name, value in features.items():
            if name in ("bias", "suspicious", "spam") or not value:
                continue
            self.weights[name] = round(self.weights.get(name, 0.0) + LEARNING_RATE * error * value, 4)
