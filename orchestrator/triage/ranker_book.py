"""The user's ranker and corrections, kept in the context store (`triage.ranker/user`).

One `RankerBook` per Pepper: the mail feed asks it to `rank` each mail it triages (the score, the
features and whose weights apply travel on the signal, so re-ranking needs no mail), and the card
buttons, the chat and the CLI `correct` through it: "important", "not_important" or "never", about
one mail (by its id) or a sender (by address). A correction is learned and stored at once, then
every open mail signal is scored again (`rerank_open`), so Now changes in the same breath. What the
correction says about the kind of mail goes to the content model through `lessons` (the mail feed
sets it: `orchestrator.triage.lessons`), before the open mail is scored again. "Mark
read" when the mailbox is not writable is remembered here (`read_locally`), so the mail stays out
of Now when it is triaged again. The stored format carries a version (1); a damaged or unknown one
is dropped for the prior weights, keeping nothing the user would not see again in the list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from pydantic import BaseModel, Field, ValidationError

from orchestrator.context_items import ContextItems, store_item
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import SenderTrust
from orchestrator.feeds.signals import Signal
from orchestrator.triage.now import MAIL_IN_NOW, now_items
from orchestrator.triage.ranker import THRESHOLD, CorrectionKind, Ranker, RankKeys, features_of, keys_of

__all__ = ["RANKER", "Correction", "RankerBook", "Ranking", "StoredRanker", "count_sender", "rank_mail"]

RANKER = ("triage.ranker", "user")
RANKER_VERSION = 1
EMAIL_SIGNALS = "signals.email"
OPEN_LIMIT = 1000
KEPT = 2000  # ids remembered for replays and local reads; senders counted
CORRECTIONS_KEPT = 500
SCORE_STEP = 0.25  # a score that moved less keeps its stored value and order
STALE = timedelta(days=7)
SOON = timedelta(hours=48)


class Correction(BaseModel):
    kind: CorrectionKind
    message_id: str | None = None
    sender: str = ""
    list_id: str = ""
    at: datetime


class StoredRanker(BaseModel):
    version: int = RANKER_VERSION
    ranker: Ranker = Field(default_factory=Ranker)
    received: dict[str, int] = Field(default_factory=dict, description="Mail received per sender")
    counted: list[str] = Field(default_factory=list, description="Ids lately counted (a replay is not)")
    read_locally: list[str] = Field(default_factory=list, description="Marked read in Pepper only")
    corrections: list[Correction] = Field(default_factory=list, description="The latest, oldest first")


class Ranking(BaseModel):
    """What a signal carries from the ranker."""

    score: float
    attention: bool = Field(description="Asks for a place in Now: above the threshold, unread, not muted")
    seen: bool
    features: dict[str, float]
    keys: RankKeys
    why: list[str] = Field(default_factory=list, description="What moved the score most, in words")


class RankerBook:
    def __init__(self, items: ContextItems) -> None:
        self._items = items
        self.state = StoredRanker()
        self._loaded = False
        self._dirty = False
        self._lock = anyio.Lock()
        # Teaches the content model from a correction (kind, message id, sender); returns the signals it changed.
        self.lessons: Callable[[CorrectionKind, str | None, str | None], Awaitable[int]] | None = None

    @property
    def ranker(self) -> Ranker:
        return self.state.ranker

    async def load(self) -> StoredRanker:
        if self._loaded:
            return self.state
        async with self._lock:
            if not self._loaded:
                item = await self._items.get(*RANKER)
                try:
                    stored = StoredRanker.model_validate(item.data) if item else StoredRanker()
                except ValidationError:
                    stored = StoredRanker()
                self.state = stored if stored.version == RANKER_VERSION else StoredRanker()
                self._loaded = True
        return self.state

    def rank(
        self, email: Email, profile: UserProfile, trust: SenderTrust, verdict: dict, now: datetime
    ) -> Ranking:
        """Score one mail the rules just judged (see `rank_mail`)."""
        self._dirty |= count_sender(self.state, email.id, trust.address)
        return rank_mail(self.state, email, profile, trust, verdict, now)

    def _ranking(self, features: dict[str, float], keys: RankKeys, seen: bool) -> Ranking:
        return _ranking(self.ranker, features, keys, seen)

    async def save(self) -> None:
        """Store the state when something changed."""
        if (item := self.unsaved_item()) is not None:
            await self._items.put_many([item])

    def unsaved_item(self) -> dict[str, Any] | None:
        """The state as a `store_many` item when it changed since the last save (then counted as
        saved), for the feed to store with its page's signals; None when nothing changed."""
        if not self._dirty:
            return None
        self._dirty = False
        return store_item(*RANKER, self.state.model_dump(mode="json"))

    async def correct(
        self, kind: CorrectionKind, now: datetime, *, message_id: str | None = None, sender: str | None = None
    ) -> tuple[str, int]:
        """Learn one correction about a mail or a sender; returns what changed, in words, and how many
        open mail signals moved."""
        await self.load()
        features, keys = await self._target(message_id, sender)
        async with self._lock:
            self.ranker.correct(kind, features, keys)
            correction = Correction(
                kind=kind, message_id=message_id, sender=keys.sender, list_id=keys.list_id, at=now
            )
            self.state.corrections = [*self.state.corrections, correction][-CORRECTIONS_KEPT:]
            self._dirty = True
            await self.save()
        taught = await self.lessons(kind, message_id, sender) if self.lessons is not None else 0
        moved = await self.rerank_open()
        return _said(kind, keys), taught + moved

    async def _target(self, message_id: str | None, sender: str | None) -> tuple[dict[str, float], RankKeys]:
        if message_id:
            item = await self._items.get(EMAIL_SIGNALS, message_id)
            if item is None or not isinstance(item.data, dict):
                raise LookupError(f"no mail {message_id!r} among the triaged mail; pick one Pepper showed")
            data = item.data
            keys = RankKeys.model_validate(data["keys"]) if data.get("keys") else None
            keys = keys or RankKeys(sender=data.get("sender") or "")
            return dict(data.get("features") or {}), keys
        address = (sender or "").strip().lower()
        if "@" not in address:
            raise ValueError(f"{sender!r} is neither a mail id nor an address (e.g. ann@example.org)")
        return {}, RankKeys(sender=address, domain=address.rpartition("@")[2])

    async def mark_read_locally(self, message_id: str) -> None:
        await self.load()
        async with self._lock:
            self.state.read_locally = [*self.state.read_locally, message_id][-KEPT:]
            self._dirty = True
            await self.save()

    async def rerank_open(self) -> int:
        """Score every stored mail signal again with the current weights; store those that moved in
        or out of Now, or by `SCORE_STEP` (the shared weights' small drift rewrites nothing)."""
        changed = []
        # Now's mail by its tag, however long ago it was judged (after a first sync the newest
        # signals are old mail), so a correction takes it out; the newest, so one can bring mail in.
        open_mail = ((EMAIL_SIGNALS, ("now",), MAIL_IN_NOW), (EMAIL_SIGNALS, (), OPEN_LIMIT))
        for item in await now_items(self._items, open_mail):
            data = item.data if isinstance(item.data, dict) else {}
            if not data.get("keys"):
                continue
            ranking = self._ranking(
                data.get("features") or {}, RankKeys.model_validate(data["keys"]), bool(data.get("seen"))
            )
            if _moved(ranking, data):
                moved = {"score": ranking.score, "attention": ranking.attention, "why": ranking.why}
                changed.append(Signal.model_validate({**data, **moved}).store_item())
        await self._items.put_many(changed)
        return len(changed)


def _moved(ranking: Ranking, data: dict) -> bool:
    score = data.get("score")
    return (
        ranking.attention != data.get("attention")
        or score is None
        or abs(ranking.score - float(score)) >= SCORE_STEP
        or ranking.why != data.get("why")
    )


def count_sender(state: StoredRanker, message_id: str, address: str) -> bool:
    """Count a mail from `address` once (a replayed message is not); returns whether it counted."""
    if not address or message_id in state.counted:
        return False
    state.counted = [*state.counted, message_id][-KEPT:]
    state.received[address] = state.received.get(address, 0) + 1
    if len(state.received) > KEPT:
        del state.received[min(state.received, key=state.received.__getitem__)]
    return True


def rank_mail(
    state: StoredRanker, email: Email, profile: UserProfile, trust: SenderTrust, verdict: dict, now: datetime
) -> Ranking:
    """Score one mail the rules just judged (`verdict`: the signal's priority, category, action_items
    and deadlines) with the user's ranker, as of `now`."""
    soon = any(now <= d["due"] <= now + SOON for d in verdict.get("deadlines", []))
    features = features_of(
        email,
        profile,
        trust,
        verdict,
        received=state.received.get(trust.address, 0),
        stale=now - email.date > STALE,
        deadline_soon=soon,
    )
    seen = bool(features["seen"]) or email.id in state.read_locally
    return _ranking(state.ranker, features, keys_of(email, trust), seen)


def _ranking(ranker: Ranker, features: dict[str, float], keys: RankKeys, seen: bool) -> Ranking:
    score = ranker.score(features, keys)
    attention = score > THRESHOLD and not seen
    why = ranker.why(features, keys)
    return Ranking(score=score, attention=attention, seen=seen, features=features, keys=keys, why=why)


def _said(kind: CorrectionKind, keys: RankKeys) -> str:
    who = f"the list {keys.list_id}" if keys.list_id else keys.sender or "this sender"
    if kind == "never":
        return f"Muted {who}: their mail will not be in Now (still in search and the digest)."
    if kind == "important":
        lift = "" if keys.believed else " (not their forged-looking mail: that stays out)"
        return f"Noted: mail like this from {who} is important{lift}."
    return f"Noted: mail like this from {who} is not important; it leaves Now."
