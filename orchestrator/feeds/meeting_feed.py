"""The meeting feed: every upcoming event in `raw.calendar` becomes a `signals.meeting` with a brief.

The brief gathers what the user would look up before walking in: who comes (and who has not
answered), where or which call link, the agenda's first lines, and the most related recent mail:
asked of the gmail server's own index (the one keyword index of mail, see its README) as
`{from:a from:b} OR (title words)`, or, with no mail server, of the context store by meaning (its
keyword index leaves mail out). A meeting starting within two hours is high priority. When the event
disappears, so does its signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from orchestrator.context_items import ContextItems
from orchestrator.event_log import ContextEvent
from orchestrator.feeds.related_mail import about_from, search_mail
from orchestrator.feeds.signals import Signal
from orchestrator.mcp_clients import ToolCaller

__all__ = ["MeetingFeed", "meeting_start", "related_mail_query"]

SOON = timedelta(hours=2)
RELATED = 3  # related mails in a brief


def meeting_start(event: dict[str, Any]) -> datetime:
    """The event's start as an aware datetime (an all-day event starts at midnight UTC)."""
    start = event["start"]
    if isinstance(start, str) and "T" not in start:
        return datetime.combine(date.fromisoformat(start), time(0), tzinfo=UTC)
    parsed = datetime.fromisoformat(start)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def related_mail_query(meeting: dict[str, Any]) -> str:
    """The Gmail query for mail related to a meeting: about its subject (a word of its title that
    names something: not "daily", "sync" or the name of someone in it) and from an attendee, or with
    every word of the title. A meeting whose title names nothing ("Daily stand-up", "Alex / Jordan
    1:1") gets none: all mail of its attendees would be noise, not related."""
    people = [*meeting.get("attendees", []), meeting.get("organizer") or {}]
    names = [f"{p.get('name') or ''} {(p.get('email') or '').partition('@')[0]}" for p in people]
    return about_from(
        (p.get("email") or "" for p in meeting.get("attendees", [])), meeting.get("title") or "", names
    )


class MeetingFeed:
    consumer = "feeds.calendar"
    namespaces = ["raw.calendar"]

    def __init__(
        self,
        items: ContextItems,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        mail: ToolCaller | Sequence[ToolCaller] | None = None,
    ) -> None:
        self._items = items
        self._now = now
        self._mail = mail  # the gmail server, whose index answers "which mail is related"

    async def handle(self, event: ContextEvent) -> None:
        if event.op != "store":
            await self._items.delete("signals.meeting", event.id)
            return
        item = event.item or await self._items.get("raw.calendar", event.id)
        if item is None or not isinstance(item.data, dict):
            return
        meeting = item.data
        starts_at = meeting_start(meeting)
        if meeting.get("status") == "cancelled":
            await self._items.delete("signals.meeting", event.id)
            return
        brief = await self.brief(meeting)
        soon = not meeting.get("all_day") and timedelta(0) <= starts_at - self._now() <= SOON
        signal = Signal(
            kind="meeting",
            source_id=event.id,
            priority="high" if soon else "normal",
            category="meeting",
            summary=meeting.get("title") or "(untitled event)",
            people=[_person(a) for a in meeting.get("attendees", [])],
            link=f"calendar://event/{event.id}",
            starts_at=starts_at,
            all_day=bool(meeting.get("all_day")),
            brief=brief,
            account=meeting.get("account"),
        )
        await self._items.put(**signal.put_arguments())

    async def flush(self) -> None:
        """Nothing is held back: each meeting's signal is stored as it is handled."""

    async def brief(self, meeting: dict[str, Any]) -> str:
        lines: list[str] = []
        if agenda := (meeting.get("description") or "").strip():
            lines.append("Agenda: " + " ".join(agenda.split())[:300])
        attendees = meeting.get("attendees", [])
        if attendees:
            lines.append("With: " + ", ".join(_person(a) for a in attendees))
            waiting = [_person(a) for a in attendees if a.get("response") in ("needs-action", "tentative")]
            if waiting:
                lines.append("Not confirmed: " + ", ".join(waiting))
        if place := meeting.get("conference_link") or meeting.get("location"):
            lines.append(f"Where: {place}")
        lines += [f"Related mail: {subject}" for subject in await self._related(meeting)]
        return "\n".join(lines) or "No agenda, attendees or related mail found."

    async def _related(self, meeting: dict[str, Any]) -> list[str]:
        """Subjects of the most related recent mail (newest first from the mail server)."""
        if self._mail is not None:
            if not (query := related_mail_query(meeting)):
                return []  # a title that names nothing: no mail is related to it in particular
            found = await search_mail(self._mail, query, RELATED)
            if found is not None:
                return [m.get("subject") or "(no subject)" for m in found]
        attendees = meeting.get("attendees", [])
        text = " ".join([meeting.get("title") or "", *(a.get("name") or "" for a in attendees)]).strip()
        if not text:
            return []
        subjects = []
        for mail in await self._items.search(text, ["raw.email"], limit=RELATED):
            subject = mail.data.get("subject") if isinstance(mail.data, dict) else None
            subjects.append(subject or (mail.text or "").splitlines()[0][:100])
        return subjects


def _person(attendee: dict[str, Any]) -> str:
    return attendee.get("name") or attendee.get("email") or "someone"
