"""The user's content model, kept in the context store (`triage.model/user`) as counts over the seed.

One `ContentBook` per Pepper: the shipped seed with the user's own counts (`delta`) laid over it.
The book reads the stored counts once (`load`, at the first message). Two things teach it: mail the
provider filed as spam (the Gmail SPAM label, which the IMAP and Maildir stores give to the
Junk/Spam folder; a message learned so and later taken out of that folder is learned again as ham),
which the mail feed stores once per page (`save`); and the user's corrections on cards, in chat and
in the CLI (`orchestrator.triage.lessons`), stored at once. A correction outranks the folder: a
message the user judged is not learned again from its folder. A message is learned once per verdict
(the feed's at-least-once delivery replays a page; the ids lately learned are kept with their
verdict, its weight and what taught it, so a change of mind takes back exactly what was learned).

The stored format carries a version (2). Format 1 (no version, `learned` as id -> spam) was written
only by the Junk folder at `USER_WEIGHT`, and is read as such (`upgrade`); a damaged item, or one
from a newer Pepper, is dropped: the seed alone is a fair start, and the Junk folder teaches again.
"""

from __future__ import annotations

from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, ValidationError, model_validator

from orchestrator.context_items import ContextItems, store_item
from orchestrator.feeds.mail import Email
from orchestrator.triage.content import USER_WEIGHT, ContentCounts, ContentModel, seed_model

__all__ = [
    "CONTENT_MODEL",
    "CONTENT_VERSION",
    "SPAM_LABEL",
    "ContentBook",
    "Learned",
    "StoredCounts",
    "upgrade",
]

CONTENT_MODEL = ("triage.model", "user")
CONTENT_VERSION = 2
SPAM_LABEL = "SPAM"
LEARNED_IDS_KEPT = 1000
FEATURES_KEPT = 20_000  # the user's own counts stay small: the rarest features go first

Teacher = Literal["folder", "correction"]


class Learned(BaseModel):
    """What one message taught the model."""

    spam: bool
    weight: int = Field(USER_WEIGHT, description="As how many corpus messages it counts")
    by: Teacher = Field("folder", description="The Junk/Spam folder, or the user's correction")


class StoredCounts(BaseModel):
    """What is stored: the user's counts and the messages lately learned, oldest first."""

    version: int = CONTENT_VERSION
    delta: ContentCounts = Field(default_factory=ContentCounts)
    learned: dict[str, Learned] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _upgraded(cls, data: Any) -> Any:
        return upgrade(data)


def upgrade(data: Any) -> Any:
    """Stored data of an older format in the current one (format 1 had no version: every message was
    learned from the Junk folder, at `USER_WEIGHT`)."""
    if isinstance(data, dict) and "version" not in data:
        learned = data.get("learned") or {}
        if not isinstance(learned, dict) or not all(isinstance(v, bool) for v in learned.values()):
            raise ValueError("format 1 keeps learned messages as id -> spam (true or false)")
        upgraded = {id: {"spam": spam, "weight": USER_WEIGHT, "by": "folder"} for id, spam in learned.items()}
        return {**data, "version": CONTENT_VERSION, "learned": upgraded}
    return data


class ContentBook:
    def __init__(self, items: ContextItems, model: ContentModel | None = None) -> None:
        self._items = items
        self.model = model or seed_model().with_delta(ContentCounts())
        self._learned: dict[str, Learned] = {}
        self._loaded = False
        self._dirty = False
        self._lock = anyio.Lock()

    async def load(self) -> ContentModel:
        """The model, with the user's stored counts read on the first call."""
        if self._loaded:
            return self.model
        async with self._lock:
            if not self._loaded:
                item = await self._items.get(*CONTENT_MODEL)
                try:
                    stored = StoredCounts.model_validate(item.data) if item else StoredCounts()
                except (ValidationError, ValueError):
                    stored = StoredCounts()
                if stored.version != CONTENT_VERSION:
                    stored = StoredCounts()
                self.model.delta = stored.delta
                self._learned = stored.learned
                self._loaded = True
        return self.model

    def learned(self, message_id: str) -> Learned | None:
        return self._learned.get(message_id)

    async def learn(
        self, emails: list[Email], is_spam: bool, *, weight: int = USER_WEIGHT, by: Teacher = "correction"
    ) -> int:
        """Teach the model that `emails` are (not) spam, at once, and store the counts; returns how
        many taught it something new (a message learned the other way before is unlearned first)."""
        await self.load()
        async with self._lock:
            taught = sum(
                self._learn_one(email, Learned(spam=is_spam, weight=weight, by=by)) for email in emails
            )
        await self.save()
        return taught

    async def learn_from_labels(self, email: Email) -> bool:
        """Learn `email` as spam when the provider filed it as spam (Junk/Spam folder), and as ham
        when the folder taught it spam and it is no longer there (the user took it out); stored by
        the next `save`. Never against the user's own correction of it."""
        await self.load()
        before = self._learned.get(email.id)
        if before is not None and before.by == "correction":
            return False
        if SPAM_LABEL in email.labels:
            spam = True
        elif before is not None and before.spam:
            spam = False
        else:
            return False
        async with self._lock:
            return self._learn_one(email, Learned(spam=spam))

    async def save(self) -> bool:
        """Store the counts when something was learned since the last save; returns whether it did."""
        if not self._dirty:
            return False
        async with self._lock:
            if (item := self.unsaved_item()) is not None:
                await self._items.put_many([item])
        return True

    def unsaved_item(self) -> dict[str, Any] | None:
        """The counts as a `store_many` item when something was learned since the last save (then
        counted as saved), for the feed to store with its page's signals; None when nothing was."""
        if not self._dirty:
            return None
        self._dirty = False
        stored = StoredCounts(version=CONTENT_VERSION, delta=self.model.delta, learned=self._learned)
        return store_item(*CONTENT_MODEL, stored.model_dump(mode="json"))

    def _learn_one(self, email: Email, lesson: Learned) -> bool:
        before = self._learned.pop(email.id, None)
        self._learned[email.id] = lesson  # the newest last: the oldest is forgotten first
        while len(self._learned) > LEARNED_IDS_KEPT:
            del self._learned[next(iter(self._learned))]
        if before == lesson:
            return False
        self._dirty = True
        if before is not None and (before.spam, before.weight) == (lesson.spam, lesson.weight):
            return False  # the same counts, now the user's word
        if before is not None:
            self.model.unlearn(email, before.spam, before.weight)
        self.model.learn(email, lesson.spam, lesson.weight)
        _trim(self.model.delta)
        return True


def _trim(counts: ContentCounts) -> None:
    if len(counts.tokens) > FEATURES_KEPT:
        kept = sorted(counts.tokens, key=lambda t: (-sum(counts.tokens[t]), t))[:FEATURES_KEPT]
        counts.tokens = {token: counts.tokens[token] for token in kept}
