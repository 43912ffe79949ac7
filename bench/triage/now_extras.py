"""The cards Now holds beside mail, for a labelled mailbox: its meetings and its follow-ups.

Meetings: the timed, non-recurring events of the demo's calendars for the mailbox's date, made into
the signals the meeting feed would store (high when starting within two hours); follow-ups: the
user's sent mail the follow-up feed would track and no later mail answered, overdue once its wait is
over. Each is labelled by the rules in `bench/data/README.md` ("Meetings and follow-ups") and judged
by the Now rule itself (`orchestrator.triage.now`: `in_now`, `now_score`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar

from bench.triage.mailbox import Labelled, Mailbox
from orchestrator.demo.agenda import calendars
from orchestrator.demo.timeline import Timeline
from orchestrator.feeds.follow_ups import FollowUp, answered_follow_up, follow_up_for
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.signals import Signal

__all__ = ["follow_up_cards", "meeting_cards"]

SOON = timedelta(hours=2)
GRACE = timedelta(hours=1)


def meeting_cards(box: Mailbox, timeline: Timeline) -> list[tuple[Labelled, Email, dict]]:
    """Each meeting as (label, a stand-in Email for the report, the signal's data)."""
    found = []
    for name, ics in sorted(calendars(timeline).items()):
        for event in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
            start = event.decoded("dtstart")
            if "RRULE" in event or "RECURRENCE-ID" in event or not isinstance(start, datetime):
                continue
            end_of_day = datetime.combine(
                box.now.date() + timedelta(days=1), datetime.min.time(), box.now.tzinfo
            )
            label = "needs-attention" if box.now - GRACE <= start < end_of_day else "fyi"
            uid, title = str(event["UID"]), str(event.get("SUMMARY", ""))
            soon = timedelta(0) <= start - box.now <= SOON
            signal = Signal(kind="meeting", source_id=uid, priority="high" if soon else "normal",
                            category="meeting", summary=title, starts_at=start, brief=f"(brief of {title})")  # fmt: skip
            item = Labelled(f"{box.seed}-meeting-{uid}", b"", [], "meeting", label)
            found.append(
                (
                    item,
                    _stand_in(uid, f"{title} ({name}, {start:%a %H:%M})", start),
                    signal.model_dump(mode="json"),
                )
            )
    return found


def follow_up_cards(
    mails: list[tuple[Labelled, Email]], profile: UserProfile, now: datetime
) -> list[tuple[Labelled, Email, dict]]:
    """The follow-ups still open at `now` (mail read oldest first, as the feed reads it)."""
    waiting: dict[str, tuple[Labelled, FollowUp]] = {}
    for item, email in mails:
        if item.label == "sent" and email.in_sent:
            follow_up = follow_up_for(email, profile)
            if follow_up is not None:
                waiting[email.id] = (item, follow_up)
        elif (answered := answered_follow_up(email, [f for _, f in waiting.values()])) is not None:
            waiting.pop(answered.email_id, None)
    found = []
    for item, follow_up in waiting.values():
        overdue = follow_up.due_at <= now
        state = "overdue" if overdue else "waiting"
        signal = Signal(kind="follow_up", source_id=follow_up.email_id, priority="normal" if overdue else "low",
                        category="follow_up", summary=f"{state}: {follow_up.subject}")  # fmt: skip
        label = "needs-attention" if item.family == "awaiting_vendor" else "fyi"
        card = Labelled(f"{item.id}-follow-up", b"", [], "follow_up", label)
        stand_in = _stand_in(follow_up.email_id, f"follow-up: {follow_up.subject}", follow_up.sent_at)
        found.append((card, stand_in, signal.model_dump(mode="json") | {"state": state}))
    return found


def _stand_in(id: str, subject: str, when: datetime | date) -> Email:
    return Email.model_validate({"id": id, "subject": subject, "date": when.isoformat()})
