"""The user's content model, kept in the context store (`triage.model/user`) as counts over the seed.

One `ContentModel` per Pepper: the shipped seed with the user's own counts (`delta`) laid over it.
The book reads the stored counts once (`load`, at the first message) and saves them after each
`learn`. What teaches it today is mail the provider filed as spam: the Gmail SPAM label, which the
IMAP and Maildir stores give to the Junk/Spam folder; a message learned so and later taken out of
that folder is learned again as ham. A message is learned once per verdict (the feed's
at-least-once delivery replays a page; the ids lately learned are kept with their verdict). Corrections from the cards,
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
    learned: dict[str, bool] = Field(
        default_factory=dict, description="The messages lately learned, oldest first: id -> learned as spam"
    )


class ContentBook:
    def __init__(self, items: ContextItems, model: ContentModel | None = None) -> None:
        self._items = items
        self.model = model or seed_model().with_delta(ContentCounts())
        self._learned: dict[str, bool] = {}
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
                self._learned = stored.learned
                self._loaded = True
        return self.model

    async def learn(self, email: Email, is_spam: bool) -> bool:
        """Teach the model that `email` is (not) spam, at once, and store the counts; returns whether
        it learned: False when it already holds that verdict on the message. A message learned the
        other way before (taken out of the Junk folder, a correction) is unlearned first."""
        await self.load()
        async with self._lock:
            before = self._learned.get(email.id)
            if before is is_spam:
                return False
            if before is not None:
                self.model.unlearn(email, before)
            self.model.learn(email, is_spam)
            self._learned.pop(email.id, None)
            self._learned[email.id] = is_spam
            while len(self._learned) > LEARNED_IDS_KEPT:
                del self._learned[next(iter(self._learned))]
            _trim(self.model.delta)
            stored = StoredCounts(delta=self.model.delta, learned=self._learned)
            await self._items.put(*CONTENT_MODEL, stored.model_dump(mode="json"))
        return True

    async def learn_from_labels(self, email: Email) -> bool:
        """Learn `email` as spam when the provider filed it as spam (Junk/Spam folder), and as ham
        when it was learned as spam and is no longer there (the user took it out)."""
        await self.load()
        if SPAM_LABEL in email.labels:
            return await self.learn(email, True)
        if self._learned.get(email.id) is True:
            return await self.learn(email, False)
        return False


def _trim(counts: ContentCounts) -> None:
    if len(counts.tokens) > FEATURES_KEPT:
        kept = sorted(counts.tokens, key=lambda t: (-sum(counts.tokens[t]), t))[:FEATURES_KEPT]
        counts.tokens = {token: counts.tokens[token] for token in kept}
