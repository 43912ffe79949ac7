"""The content model: how much an email looks like spam, from its words and headers alone.

A naive Bayes model over the features of `content_features` (each counted once per message, the
"binarized" multinomial model that suits short, repetitive spam better than raw counts): for each
feature, in how many spam and how many ham messages it was seen. A message's score is the sum over
its known features of the log-odds of spam among the messages holding it (each class weighed by
its size, pulled towards even for rarely seen features, as in Robinson's variant of Graham's
filter), with even priors; `P(spam)` is the logistic of that score, and the message is spam at or above the operating
threshold shipped with the model. The verdict names the features that pushed it most, as reasons.

The seed model (`data/seed_model.json`) is built from the development split of the SpamAssassin
public corpus by `bench/triage/train_seed.py` (its cross-validated figures are in
`bench/RESULTS-triage.md`); it is read on first use, not at import. Each user's own evidence (mail
they filed as Junk/Spam, and their corrections: see `lessons`) goes into `learn`, which updates the counts at
once; those counts are the user's `delta`, kept apart from the seed so they can be stored and laid
over a newer seed. Content alone never decides about a sender the user knows: see `triage_rules`.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email
from orchestrator.triage.content_features import features

__all__ = ["SEED_PATH", "ContentCounts", "ContentModel", "ContentVerdict", "seed_model"]

SEED_PATH = Path(__file__).resolve().parent / "data" / "seed_model.json"
USER_WEIGHT = 3  # a message the user filed counts as this many corpus messages: it is their mail
SCORE_LIMIT = 40.0  # log-odds beyond this say nothing more, and would overflow the logistic
REASONS_SHOWN = 5
STRENGTH = 1.0  # imaginary messages at even odds behind every feature (Robinson's s)
# ... behind a feature only the user's own mail holds: the corpus said nothing of how often ham holds
# it, so a few corrections must not make it strong evidence (it would call the user's alike ham spam).
NEW_STRENGTH = 6.0


class ContentCounts(BaseModel):
    """Counts of messages, and of the messages holding each feature, per class."""

    spam_docs: int = 0
    ham_docs: int = 0
    tokens: dict[str, list[int]] = Field(default_factory=dict, description="feature -> [spam, ham]")

    def add(self, tokens: set[str], is_spam: bool, weight: int = 1) -> None:
        column = 0 if is_spam else 1
        if is_spam:
            self.spam_docs += weight
        else:
            self.ham_docs += weight
        for token in tokens:
            counts = self.tokens.setdefault(token, [0, 0])
            counts[column] += weight


class ContentVerdict(BaseModel):
    """What the content model says about one email."""

    spam_probability: float = Field(description="P(spam) from words and headers, 0..1")
    score: float = Field(description="The log-odds behind it (0 = no evidence either way)")
    spam: bool = Field(description="At or above the model's operating threshold")
    bulk: bool = Field(description="Mass-mailed: list or precedence headers, or spam")
    top_features: list[str] = Field(default_factory=list, description="What pushed it most towards spam")

    def reason(self) -> str:
        shown = ", ".join(_readable(token) for token in self.top_features) or "its overall content"
        return f"looks like spam ({self.spam_probability:.0%}): {shown}"


class ContentModel:
    """Seed counts plus the user's own (`delta`), scored as naive Bayes."""

    def __init__(self, seed: ContentCounts, threshold: float, delta: ContentCounts | None = None) -> None:
        self.seed = seed
        self.threshold = threshold
        self.delta = delta or ContentCounts()

    @classmethod
    def load(cls, path: Path = SEED_PATH, delta: ContentCounts | None = None) -> ContentModel:
        """The model stored at `path` (a `train_seed` file), with the user's `delta` laid over it."""
        try:
            stored = json.loads(path.read_text())
            seed = ContentCounts.model_validate(stored["counts"])
            threshold = float(stored["threshold"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"cannot read the content model {path}: {exc}; rebuild it with bench/triage/train_seed.py"
            ) from exc
        return cls(seed, threshold, delta)

    def with_delta(self, delta: ContentCounts) -> ContentModel:
        """The same seed, with another user's counts (the seed is shared, not copied)."""
        return ContentModel(self.seed, self.threshold, delta.model_copy(deep=True))

    def learn(self, email: Email, is_spam: bool, weight: int = USER_WEIGHT) -> None:
        """Count `email` as spam or ham for this user, as `weight` corpus messages: the next verdict
        already reflects it."""
        self.delta.add(features(email), is_spam, weight)

    def unlearn(self, email: Email, is_spam: bool, weight: int = USER_WEIGHT) -> None:
        """Take back an earlier `learn(email, is_spam, weight)` (the user changed their mind)."""
        self.delta.add(features(email), is_spam, -weight)

    def log_odds(self, email: Email) -> float:
        """The evidence for spam, unbounded (`judge` caps it at `SCORE_LIMIT`): for measuring."""
        return sum(self._contributions(features(email)).values())

    def judge(self, email: Email) -> ContentVerdict:
        tokens = features(email)
        contributions = self._contributions(tokens)
        score = max(-SCORE_LIMIT, min(SCORE_LIMIT, sum(contributions.values())))
        spam = score >= self.threshold
        top = sorted((t for t, c in contributions.items() if c > 0), key=lambda t: -contributions[t])
        headers = email.list_headers
        listed = bool(headers.list_id or headers.list_unsubscribe or headers.precedence)
        return ContentVerdict(
            spam_probability=round(1 / (1 + math.exp(-score)), 4),
            score=round(score, 3),
            spam=spam,
            bulk=spam or listed,
            top_features=top[:REASONS_SHOWN],
        )

    def _contributions(self, tokens: set[str]) -> dict[str, float]:
        """Each known feature's log-odds of spam: the share of spam among the messages holding it,
        each class's count scaled by its size (so that the classes weigh the same), pulled towards
        even by `STRENGTH` imaginary messages so that a feature seen a few times says little."""
        spam_docs = max(self.seed.spam_docs + self.delta.spam_docs, 1)
        ham_docs = max(self.seed.ham_docs + self.delta.ham_docs, 1)
        seed, delta = self.seed.tokens, self.delta.tokens
        found = {}
        for token in tokens:
            counts = seed.get(token)
            extra = delta.get(token)
            if counts is None and extra is None:
                continue
            spam = (counts[0] if counts else 0) + (extra[0] if extra else 0)
            ham = (counts[1] if counts else 0) + (extra[1] if extra else 0)
            spam_rate, ham_rate = spam / spam_docs, ham / ham_docs
            if spam_rate + ham_rate == 0:
                continue
            share = spam_rate / (spam_rate + ham_rate)
            seen = spam + ham
            strength = STRENGTH if counts is not None else NEW_STRENGTH
            pulled = (strength * 0.5 + seen * share) / (strength + seen)
            found[token] = math.log(pulled / (1 - pulled))
        return found


def _readable(token: str) -> str:
    kind, _, value = token.partition(":")
    if kind == "subj":
        return f'"{value}" in the subject'
    if kind == "url":
        return f"a link to {value}"
    if kind == "from":
        return f"sent from {value}"
    if kind == "h":
        return value.replace(":", " ")
    return f'"{token}"'


@cache
def seed_model() -> ContentModel:
    """The shipped seed model, read once on first use (shared: use `with_delta` for a user's own)."""
    return ContentModel.load()
