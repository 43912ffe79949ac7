"""The Now list as an attention budget: what needs the user now, best first, at most `NOW_LIMIT`.

A mail signal is in Now when the ranker (`orchestrator.triage.ranker`) put it above its threshold
and it is neither read nor muted (`attention`, stored on the signal); a signal stored before the
ranker existed has no `attention` and is judged by the old rule (not low, not bulk or spam) with a
score from its priority. Reminders count like mail. Beside mail, Now holds the meetings of the rest
of today (from an hour ago to the end of the user's day, not all-day events: each card carries its
brief) and the follow-ups whose wait is over (sent mail still unanswered), scored by their priority;
a meeting later than today and a follow-up still in its wait stay in their own list (Today).
Everything else stays reachable: the rest of Now behind "show more", low priority and bulk mail
behind the page's filter, all of it in search and the digest. The page (`web/static/now.js`
`inNow`), the chat and the CLI share this rule, so they list the same cards in the same order.

What they read to apply it is `now_items` (`NOW_READS`): the mail the ranker gave a place in Now by
its `now` tag, however long ago it was judged, not the newest signals written. After a first sync of
years of mail the newest hundreds are old mail judged last; Now's mail was judged first, and a read
of the newest 300 held almost none of it (0-4 of ~335 in three 100,000-message runs).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from orchestrator.supervision.together import together

if TYPE_CHECKING:
    from orchestrator.context_items import ContextItems, StoredItem

__all__ = ["MAIL_IN_NOW", "NOW_LIMIT", "NOW_READS", "in_now", "now_items", "now_list", "now_score"]

NOW_LIMIT = 15
LEGACY_SCORES = {"urgent": 4.0, "high": 2.0, "normal": 0.5, "low": -1.0}
MEETING_GRACE = timedelta(hours=1)  # a meeting that started within the hour is still on
MAIL_IN_NOW = 500  # the most mail read as Now's: the page shows 150 at most, the count says how many wait

NOW_READS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    # The ranker's `attention`, as `Signal.put_arguments` tags it (a signal judged before the ranker
    # has none: the mail feed ranks those at start, `MailFeed.rank_unranked`).
    ("signals.email", ("now",), MAIL_IN_NOW),
    ("signals.meeting", (), 200),
    ("signals.follow_up", (), 200),
)
"""The reads (namespace, tags, most items) that hold every signal Now can show."""


def in_now(signal: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether a signal's data asks for a place in Now (meetings only with `now`, an aware time in
    the user's timezone: "today" is theirs)."""
    kind = signal.get("kind")
    if kind == "meeting":
        return now is not None and meeting_today(signal, now)
    if kind == "follow_up":
        return signal.get("state") == "overdue"
    if signal.get("attention") is not None:
        return bool(signal["attention"])
    return signal.get("priority") != "low" and signal.get("category") not in ("bulk", "spam")


def meeting_today(signal: dict[str, Any], now: datetime) -> bool:
    """A timed meeting that starts between an hour ago and the end of `now`'s day."""
    if signal.get("all_day") or not signal.get("starts_at"):
        return False
    try:
        starts = datetime.fromisoformat(str(signal["starts_at"]))
    except ValueError:
        return False
    if starts.tzinfo is None or now.tzinfo is None:
        return False
    end_of_day = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
    return now - MEETING_GRACE <= starts < end_of_day


def now_score(signal: dict[str, Any]) -> float:
    score = signal.get("score")
    return float(score) if score is not None else LEGACY_SCORES.get(signal.get("priority", ""), 0.0)


def now_list(
    signals: list[dict[str, Any]], limit: int = NOW_LIMIT, now: datetime | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The signals Now shows first, best first, and how many more wait behind "show more"."""
    wanted = sorted(
        (s for s in signals if in_now(s, now)),
        key=lambda s: (-now_score(s), str(s.get("source_id", ""))),
    )
    return wanted[:limit], max(len(wanted) - limit, 0)


async def now_items(
    items: ContextItems, reads: tuple[tuple[str, tuple[str, ...], int], ...] = NOW_READS
) -> list[StoredItem]:
    """The stored signals Now is drawn from (`reads`, asked at once), each once."""
    answers = await together(
        *(partial(items.query, [namespace], list(tags), limit=limit) for namespace, tags, limit in reads)
    )
    found = {(item.namespace, item.id): item for answer in answers for item in answer}
    return list(found.values())
