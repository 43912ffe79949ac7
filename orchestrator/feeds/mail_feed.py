"""The mail feed: triage every new message into `signals.email`, learn the user's profile from the
mail they send, and keep `signals.follow_up` for sent mail awaiting a reply.

The profile (`memory.profile/user`, kept by `orchestrator.profile.ProfileBook`) holds the user's
addresses, name and role, VIPs, how often they write and reply to each correspondent, and their
projects; mail labelled SENT or sent from one of the user's addresses teaches it, and the user's edits
win over what it learns. A follow-up signal is written when the user's message asks something,
becomes overdue after its wait (`check_overdue`), and is deleted when a recipient answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.follow_ups import FollowUp, answered_follow_up, follow_up_for
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.signals import Signal
from orchestrator.feeds.triage_llm import RulesTriage, TriageEngine
from orchestrator.profile import ProfileBook

__all__ = ["MailFeed"]

FOLLOW_UPS = "signals.follow_up"


class MailFeed:
    consumer = "feeds.email"
    namespaces = ["raw.email"]

    def __init__(
        self,
        items: ContextItems,
        user_addresses: list[str],
        vips: list[str],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        engine: TriageEngine | None = None,
        profiles: ProfileBook | None = None,
    ) -> None:
        self._items = items
        self._engine = engine or RulesTriage()
        self.profiles = profiles or ProfileBook(items, user_addresses, vips)
        self._now = now
        self._awaiting: dict[str, FollowUp] | None = None  # by sent email id; loaded once
        self._pending: list[dict] = []  # triage signals of the current page, stored together by flush()

    async def handle(self, event: ContextEvent) -> None:
        if event.op != "store":
            return
        item = await self._items.get("raw.email", event.id)
        if item is None:
            return
        email = Email.model_validate(item.data)
        profile = await self.profiles.load()
        if self._is_sent(email, profile):
            await self._learn(email)
        else:
            await self._triage(email, profile)

    def _is_sent(self, email: Email, profile: UserProfile) -> bool:
        return "SENT" in email.labels or profile.is_user(email.sender)

    @property
    def profile(self) -> UserProfile | None:
        return self.profiles.profile

    async def _learn(self, email: Email) -> None:
        profile = await self.profiles.learn(email)
        follow_up = follow_up_for(email, profile)
        if follow_up is not None:
            await self._store_follow_up(follow_up, overdue=follow_up.due_at <= self._now())

    async def _triage(self, email: Email, profile: UserProfile) -> None:
        verdict = await self._engine.triage(email, profile, self._now())
        signal = Signal(
            kind="email",
            source_id=email.id,
            priority=verdict.priority,
            category=verdict.category,
            summary=verdict.summary,
            action_items=verdict.action_items,
            deadlines=verdict.deadlines,
            people=verdict.people,
            reasons=verdict.reasons,
            link=f"gmail://message/{email.id}",
            engine=self._engine.name,
        )
        self._pending.append(signal.store_item())
        awaiting = await self._awaiting_replies()
        answered = answered_follow_up(email, awaiting.values())
        if answered is not None:
            await self._items.delete(FOLLOW_UPS, answered.email_id)
            awaiting.pop(answered.email_id, None)

    async def flush(self) -> None:
        """Store the page's triage signals in one transaction (the runner calls it before acking)."""
        pending, self._pending = self._pending, []
        await self._items.put_many(pending)

    async def check_overdue(self) -> int:
        """Raise the follow-ups whose wait is over; returns how many changed."""
        changed = 0
        for item in await self._items.query([FOLLOW_UPS], tags=["low"], limit=1000):
            follow_up = FollowUp.model_validate(item.data["follow_up"])
            if follow_up.due_at <= self._now():
                await self._store_follow_up(follow_up, overdue=True)
                changed += 1
        return changed

    async def _store_follow_up(self, follow_up: FollowUp, overdue: bool) -> None:
        who = ", ".join(follow_up.recipients)
        state = "overdue" if overdue else "waiting"
        signal = Signal(
            kind="follow_up",
            source_id=follow_up.email_id,
            priority="normal" if overdue else "low",
            category="follow_up",
            summary=f"{state}: {who} — {follow_up.subject or '(no subject)'}: {follow_up.asked[0]}",
            action_items=follow_up.asked,
            people=follow_up.recipients,
            reasons=[f"sent {follow_up.sent_at:%a %d %b}, reply expected by {follow_up.due_at:%a %d %b}"],
            link=f"gmail://message/{follow_up.email_id}",
        )
        arguments = signal.put_arguments()
        arguments["data"] = {
            **arguments["data"],
            "follow_up": follow_up.model_dump(mode="json"),
            "state": state,
        }
        await self._items.put(**arguments)
        (await self._awaiting_replies())[follow_up.email_id] = follow_up

    async def _awaiting_replies(self) -> dict[str, FollowUp]:
        if self._awaiting is None:
            stored = await self._items.query([FOLLOW_UPS], limit=1000)
            self._awaiting = {item.id: FollowUp.model_validate(item.data["follow_up"]) for item in stored}
        return self._awaiting
