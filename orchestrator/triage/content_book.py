"""The user's content model, kept in the context store (`triage.model/user`) as counts over the seed.

One `ContentModel` per Pepper: the shipped seed with the user's own counts (`delta`) laid over it.
The book reads the stored counts once (`load`, at the first message) and saves them after each
`learn`. What teaches it today is mail the provider filed as spam: the Gmail SPAM label, which the
IMAP and Maildir stores give to the Junk/Spam folder. A message is learned once (the feed's
at-least-once delivery replays a page; the ids lately learned are kept). Corrections from the cards,
chat and CLI ("not spam", "spam") are to call `learn` too; they are not wired yet.
"""

from __future__ import annotations

import anyio
from pydantic import BaseModel, Field, ValidationError

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import Email
from orchestrator.triage.content import ContentCounts, ContentModel, seed_model

__all__ = ["CONTENT_MODEL", "SPAM_LABEL", "ContentBook"]

CONTENT_MODEL = ("triage.model", "user")
SPAM_LABEL = "SPAM"
LEARNED_IDS_KEPT = 1000
FEATURES_KEPT = 20_000  # the user's own counts stay small: the rarest features go first


class StoredCounts(BaseModel):
    """What is stored: the user's counts and the ids of the messages lately learned."""

    delta: ContentCounts = Field(default_factory=ContentCounts)
    learned_ids: list[str] = Field(default_factory=list)


class ContentBook:
    def __init__(self, items: ContextItems, model: ContentModel | None = None) -> None:
        self._items = items
        self.model = model or seed_model().with_delta(ContentCounts())
        self._learned: list[str] = []
        self._loaded = False
        self._lock = anyio.Lock()

    async def load(self) -> ContentModel:
        """The model, with the user's stored counts read on the first call (a damaged item is
        dropped: the seed alone is a fair start, and the Junk folder teaches again)."""
        if self._loaded:
            return self.model
        async with self._lock:
            if not self._loaded:
                item = await self._items.get(*CONTENT_MODEL)
                try:
                    stored = StoredCounts.model_validate(item.data) if item else StoredCounts()
                except ValidationError:
                    stored = StoredCounts()
                self.model.delta = stored.delta
                self._learned = stored.learned_ids
                self._loaded = True
        return self.model

    async def learn(self, email: Email, is_spam: bool) -> bool:
        """Teach the model that `email` is (not) spam, at once, and store the counts; returns
        whether it learned (False for a message already learned)."""
        await self.load()
        async with self._lock:
            if email.id in self._learned:
                return False
            self.model.learn(email, is_spam)
            self._learned = [*self._learned, email.id][-LEARNED_IDS_KEPT:]
            _trim(self.model.delta)
            stored = StoredCounts(delta=self.model.delta, learned_ids=self._learned)
            await self._items.put(*CONTENT_MODEL, stored.model_dump(mode="json"))
        return True

    async def learn_from_labels(self, email: Email) -> bool:
        """Learn `email` as spam when the provider filed it as spam (Junk/Spam folder)."""
        return SPAM_LABEL in email.labels and await self.learn(email, True)


def _trim(counts: ContentCounts) -> None:
    if len(counts.tokens) > FEATURES_KEPT:
        kept = sorted(counts.tokens, key=lambda t: (-sum(counts.tokens[t]), t))[:FEATURES_KEPT]
        counts.tokens = {token: counts.tokens[token] for token in kept}
