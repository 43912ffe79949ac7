"""The mail feed: triage every new message into `signals.email`, learn the user's profile from the
mail they send, and keep `signals.follow_up` for sent mail awaiting a reply.

The profile (`memory.profile/user`, kept by `orchestrator.profile.ProfileBook`) holds the user's
addresses, name and role, VIPs, how often they write and reply to each correspondent, and their
projects; only mail the provider filed under Sent (the SENT label, where mail sent through Pepper
lands too) teaches it, never a From header: mail from outside that carries the user's address is
triaged as a stranger's. The user's edits win over what it learns. Drafts are neither learned nor
triaged. Mail the provider filed as spam (the Junk/Spam folder) teaches the user's content model
(`orchestrator.triage.content_book`) before it is triaged; the engine must be built on the same
book's model (`content.model`). A correction teaches it too: the feed hands its ranker the lessons
(`orchestrator.triage.lessons`); whenever the content model learned (a correction, or a page with
Junk mail), the open mail of senders the user does not know is judged again (while a sync pours
mail in, at most every `REJUDGE_SECONDS`: `beside` applies a burst's last lesson). When sent mail makes someone a correspondent, their mail already triaged is ranked again (while
mail pours in, at most every `RETRIAGE_SECONDS`: a few seconds' stale rank, not a read per page). Every
mail signal carries the user's ranker's score (`orchestrator.triage.ranker_book`: whether it asks for
a place in Now, and why); signals stored before the ranker are judged again once at start
(`rank_unranked`). New mail that the ingest's live lane handed over (`orchestrator.feeds.live_mail`)
is triaged between two events of the log (`handle_urgent`), and skipped when the log brings it
again unchanged. A follow-up signal is written when the user's message asks something,
becomes overdue after its wait (`check_overdue`), and is deleted when a recipient answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import anyio
from pydantic import ValidationError

from orchestrator.context_items import ContextItems, StoredItem
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.first_sync import BACKFILL
from orchestrator.feeds.follow_ups import FollowUp, answered_follow_up, follow_up_for
from orchestrator.feeds.live_mail import LiveMail
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust
from orchestrator.feeds.signals import Signal, sender_tag
from orchestrator.feeds.triage_llm import RulesTriage, TriageEngine
from orchestrator.feeds.triage_rules import Triage
from orchestrator.mcp_clients import ServerUnavailable, ToolCallTimeout
from orchestrator.profile import ProfileBook
from orchestrator.triage.content_book import ContentBook
from orchestrator.triage.lessons import ContentLessons
from orchestrator.triage.ranker_book import RankerBook

__all__ = ["MailFeed"]

logger = logging.getLogger(__name__)
FOLLOW_UPS = "signals.follow_up"
UNRANKED_LIMIT = 1000  # the newest mail signals looked at for a missing ranking, once per start
EARLY_KEPT = 1000  # ids judged ahead of the log and not met in it yet
POURING = 20  # events in a page that mean mail pours in (a first sync): rejudging is paced then
REJUDGE_SECONDS = 30.0
RETRIAGE_SECONDS = 5.0
FEW_SENDERS = 3  # new correspondents whose mail is looked up one by one; more, in one read


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
        content: ContentBook | None = None,
        ranker: RankerBook | None = None,
        live: LiveMail | None = None,
    ) -> None:
        self._items = items
        self.live = live
        self._early: dict[str, StoredItem] = {}  # judged ahead of the log (handle_urgent), by id
        self.content = content or ContentBook(items)
        self.ranker = ranker or RankerBook(items)
        self._engine = engine or RulesTriage(self.content.model)
        self.profiles = profiles or ProfileBook(items, user_addresses, vips)
        self.ranker.lessons = ContentLessons(items, self.content, self.profiles, self.rejudge_strangers)
        self._now = now
        self._awaiting: dict[str, FollowUp] | None = None  # by sent email id; loaded once
        self._pending: list[dict] = []  # triage signals of the current page, stored together by flush()
        self._new_correspondents: set[str] = set()  # learned during the page: their mail is re-ranked
        self._page_events = 0  # events handled since the last flush
        self._strangers_stale = False  # the content model learned since strangers' mail was judged
        self._rejudged_at = self._retriaged_at = -REJUDGE_SECONDS
        self._poured_at = -REJUDGE_SECONDS  # when a page last brought POURING events or more

    def urgent_arrival(self) -> anyio.Event | None:
        """Set when new mail is handed over (the runner stops yielding to the user for it)."""
        return self.live.arrival() if self.live is not None else None

    async def handle_urgent(self) -> None:
        """Triage the new mail the live lane handed over, ahead of the log (the runner calls it
        before each page); the log's own events for it are skipped while it is unchanged."""
        if self.live is None or not (ids := self.live.take()):
            return
        try:
            found = await self._items.get_many("raw.email", ids)
            for item in found.values():
                self._early[item.id] = item
                try:
                    await self._handle_item(item)
                except (ValidationError, ValueError) as exc:
                    logger.warning("%s skipped raw.email/%s: %s", self.consumer, item.id, exc)
            await self.flush()
        except (ServerUnavailable, ToolCallTimeout):
            # Not judged, or not stored: the log's events for them may have been skipped meanwhile
            # (they were marked judged), so they are handed over again rather than lost.
            for id in ids:
                self._early.pop(id, None)
            self.live.hand_over(ids)
            raise
        finally:
            while len(self._early) > EARLY_KEPT:
                del self._early[next(iter(self._early))]

    async def beside(self) -> None:
        """While mail pours in, strangers' mail is judged again, and new correspondents' mail ranked
        again, at most every REJUDGE_SECONDS and RETRIAGE_SECONDS: a burst's last lesson and last
        new correspondents are applied here once that time has passed (the runner runs it)."""
        while True:
            due = min(
                REJUDGE_SECONDS - self._since(self._rejudged_at),
                RETRIAGE_SECONDS - self._since(self._retriaged_at),
            )
            await anyio.sleep(max(due, 1.0))
            if self._strangers_stale and self._since(self._rejudged_at) >= REJUDGE_SECONDS:
                await self.rejudge_strangers()
            if self._new_correspondents and self._since(self._retriaged_at) >= RETRIAGE_SECONDS:
                await self.retriage_correspondents()

    @staticmethod
    def _since(at: float) -> float:
        return anyio.current_time() - at

    async def handle(self, event: ContextEvent) -> None:
        self._page_events += 1
        if event.op != "store":
            return
        item = event.item or await self._items.get(
            "raw.email", event.id
        )  # the runner reads items with the page
        if item is None or self._early.pop(event.id, None) == item:  # judged already, as it is now
            return
        await self._handle_item(item)

    async def _handle_item(self, item: StoredItem) -> None:
        email = Email.model_validate(item.data)
        profile = await self.profiles.load()
        if email.in_sent:  # an old sent question (backfill) is learned from, but not followed up
            await self._learn(email, profile, follow_up=BACKFILL not in item.tags)
        elif "DRAFT" not in email.labels:  # a draft is neither sent nor received
            await self.content.load()
            await self.content.learn_from_labels(email)
            if BACKFILL not in item.tags:  # old read mail of a first sync: for search, not for Now
                await self.ranker.load()
                await self._triage(email, profile)
            else:
                await self._close_follow_up(email)

    @property
    def profile(self) -> UserProfile | None:
        return self.profiles.profile

    async def _learn(self, email: Email, profile: UserProfile, follow_up: bool = True) -> None:
        recipients = [mailbox.email.lower() for mailbox in [*email.to, *email.cc]]
        self._new_correspondents |= {a for a in recipients if not profile.has_written_to(a)}
        profile = await self.profiles.learn(email, save=False)  # stored by flush(), once per page
        waiting = follow_up_for(email, profile) if follow_up else None
        if waiting is not None:
            await self._store_follow_up(waiting, overdue=waiting.due_at <= self._now(), later=True)

    async def _triage(self, email: Email, profile: UserProfile) -> None:
        verdict = await self._engine.triage(email, profile, self._now())
        self._pending.append(self._signal(email, verdict, profile))
        await self._close_follow_up(email)

    async def _close_follow_up(self, email: Email) -> None:
        """A received message that answers a follow-up ends it."""
        awaiting = await self._awaiting_replies()
        answered = answered_follow_up(email, awaiting.values())
        if answered is not None:
            self._pending = [
                p for p in self._pending if (p["namespace"], p["id"]) != (FOLLOW_UPS, answered.email_id)
            ]
            await self._items.delete(FOLLOW_UPS, answered.email_id)
            awaiting.pop(answered.email_id, None)

    def _signal(self, email: Email, verdict: Triage, profile: UserProfile) -> dict:
        """The signal of a judged mail, scored by the user's ranker."""
        judged = verdict.model_dump()
        ranking = self.ranker.rank(email, profile, sender_trust(email, profile), judged, self._now())
        return Signal(
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
            sender=email.sender.email.lower() if email.sender else None,
            score=ranking.score,
            attention=ranking.attention,
            seen=ranking.seen,
            features=ranking.features,
            keys=ranking.keys.model_dump(),
            why=ranking.why,
            account=email.account,
        ).store_item()

    async def flush(self) -> None:
        """Store the page's triage signals in one transaction (the runner calls it before acking),
        then rank again the mail of anyone the page's sent mail made a correspondent."""
        pending, self._pending = self._pending, []
        books = [self.profiles.unsaved_item(), self.ranker.unsaved_item()]  # what the page taught them
        junk = self.content.unsaved_item()
        await self._items.put_many([*pending, *filter(None, [*books, junk])])
        self._strangers_stale |= junk is not None  # the page's Junk mail taught the model
        if self._page_events >= POURING:
            self._poured_at = anyio.current_time()
        self._page_events = 0
        pouring = anyio.current_time() - self._poured_at < REJUDGE_SECONDS  # new mail's flush too
        if self._strangers_stale and (not pouring or self._since(self._rejudged_at) >= REJUDGE_SECONDS):
            await self.rejudge_strangers()
        if self._new_correspondents and (not pouring or self._since(self._retriaged_at) >= RETRIAGE_SECONDS):
            await self.retriage_correspondents()

    async def retriage_correspondents(self) -> None:
        """Rank again the mail of those the sent mail handled since the last time made correspondents
        (kept for the next time when the store cannot be reached)."""
        new, self._new_correspondents = self._new_correspondents, set()
        self._retriaged_at = anyio.current_time()
        try:
            await self._retriage(new)
        except BaseException:
            self._new_correspondents |= new
            raise

    async def _retriage(self, senders: set[str]) -> None:
        """Triage again the stored mail of `senders`, judged while the user had not yet written to
        them: a first sync meets the inbox before the Sent folder, and a reply makes a stranger a
        correspondent. Only changed signals are stored."""
        if len(senders) <= FEW_SENDERS:
            stored = [
                item
                for sender in sorted(senders)
                for item in await self._items.query(["signals.email"], tags=[sender_tag(sender)], limit=100)
            ]
        else:  # a page of sent mail: one read of the newest signals beats a read per correspondent
            tags = {sender_tag(sender) for sender in senders}
            newest = await self._items.query(["signals.email"], limit=UNRANKED_LIMIT)
            stored = [item for item in newest if tags & set(item.tags)]
        await self._rejudge(stored)

    async def rank_unranked(self) -> None:
        """Once at start: mail signals stored before the ranker existed (no ranker `keys`) are judged
        again, so that Now ranks old and new mail alike."""
        stored = await self._items.query(["signals.email"], limit=UNRANKED_LIMIT)
        unranked = [item for item in stored if isinstance(item.data, dict) and not item.data.get("keys")]
        if unranked:
            await self.ranker.load()
            changed = await self._rejudge(unranked)
            logger.info(
                "ranked %d mail signals stored before the ranker (%d changed)", len(unranked), changed
            )

    async def rejudge_strangers(self) -> int:
        """Judge again the open (unread) mail of senders the user does not know, whose verdict the
        content model decides; returns how many signals changed."""
        self._strangers_stale, self._rejudged_at = False, anyio.current_time()
        stored = await self._items.query(["signals.email"], limit=UNRANKED_LIMIT)
        await self.ranker.load()
        return await self._rejudge([item for item in stored if _open_strangers(item)])

    async def _rejudge(self, stored: list[StoredItem]) -> int:
        profile = await self.profiles.load()
        changed = []
        raws = await self._items.get_many("raw.email", [item.id for item in stored]) if stored else {}
        for item in stored:
            raw = raws.get(item.id)
            if raw is None:
                continue
            email = Email.model_validate(raw.data)
            signal = self._signal(email, await self._engine.triage(email, profile, self._now()), profile)
            fields = ("priority", "reasons", "score")
            if [signal["data"][f] for f in fields] != [item.data.get(f) for f in fields]:
                changed.append(signal)
        await self._items.put_many(changed)
        return len(changed)

    async def check_overdue(self) -> int:
        """Raise the follow-ups whose wait is over; returns how many changed."""
        changed = 0
        for item in await self._items.query([FOLLOW_UPS], tags=["low"], limit=1000):
            follow_up = FollowUp.model_validate(item.data["follow_up"])
            if follow_up.due_at <= self._now():
                await self._store_follow_up(follow_up, overdue=True)
                changed += 1
        return changed

    async def _store_follow_up(self, follow_up: FollowUp, overdue: bool, later: bool = False) -> None:
        """Store the follow-up's signal now, or with `later` in the page's `flush()`."""
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
            account=follow_up.account,
        )
        arguments = signal.put_arguments()
        arguments["data"] = {
            **arguments["data"],
            "follow_up": follow_up.model_dump(mode="json"),
            "state": state,
        }
        if later:
            self._pending.append({"id": arguments.pop("item_id"), **arguments})
        else:
            await self._items.put(**arguments)
        (await self._awaiting_replies())[follow_up.email_id] = follow_up

    async def _awaiting_replies(self) -> dict[str, FollowUp]:
        if self._awaiting is None:
            stored = await self._items.query([FOLLOW_UPS], limit=1000)
            self._awaiting = {item.id: FollowUp.model_validate(item.data["follow_up"]) for item in stored}
        return self._awaiting


def _open_strangers(item: StoredItem) -> bool:
    data = item.data if isinstance(item.data, dict) else {}
    features = data.get("features") or {}
    known = features.get("wrote_to") or features.get("vip")
    return not data.get("seen") and not known and data.get("category") != "bulk"
