"""The agenda intents: meetings on a day or in a range, the next meeting, free time and a meeting's
brief, through the calendar server's `list_events`, `upcoming`, `find_free_slots` and the meeting
feed's `signals.meeting` items."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from orchestrator.accounts.merge import free_in_every, merged_list
from orchestrator.conversation.intents import Reading
from orchestrator.conversation.lang import Language
from orchestrator.conversation.services import Ref, Services

__all__ = ["agenda", "free_time", "meeting_brief", "next_meeting"]


def _span(reading: Reading, now: datetime) -> tuple[date, date]:
    first = reading.when.day or now.date()
    return first, reading.when.until or first


def _start(event: dict[str, Any], zone: Any) -> datetime | None:
    value = event.get("start")
    if not isinstance(value, str) or "T" not in value:
        return None
    return datetime.fromisoformat(value).astimezone(zone)


def _line(event: dict[str, Any], zone: Any, with_day: bool) -> str:
    start = _start(event, zone)
    when = "all day" if start is None else f"{start:%H:%M}"
    if with_day:
        when = f"{(start or datetime.fromisoformat(str(event['start']))):%a %d %b} {when}"
    place = f" ({event['location']})" if event.get("location") else ""
    account = f" · {event['account']}" if event.get("account") else ""  # set only with several calendars
    return f"- **{when}** {event.get('title', '(no title)')}{place}{account}"


async def agenda(
    services: Services, reading: Reading, now: datetime, language: Language
) -> tuple[str, list[Ref]]:
    first, last = _span(reading, now)
    window = {"start": first.isoformat(), "end": (last + timedelta(days=1)).isoformat(), "limit": 100}
    events = (await _every_calendar(services, "list_events", window)).get("events", [])
    if reading.when.part and not reading.when.until:
        windows = language.agenda_windows or language.part_windows
        events = [e for e in events if _in_part(e, windows.get(reading.when.part, (0, 24)), now)]
    label = _label(first, last, now)
    if reading.when.clock and not reading.when.until:
        events = [e for e in events if _overlaps(e, first, reading.when.clock, now)]
        label += f" at {reading.when.clock}"
    if not events:
        return f"No meetings {label}.", []
    lines = [_line(e, now.tzinfo, first != last) for e in events]
    refs = [Ref("event", e["id"], e.get("title", "")) for e in events]
    return f"Meetings {label}:\n" + "\n".join(lines), refs


async def _every_calendar(services: Services, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The answer of every calendar account's server, merged (orchestrator.accounts.merge)."""
    return await merged_list(services.call, "calendar", tool, arguments, "events", services.connections)


def _in_part(event: dict[str, Any], window: tuple[int, int], now: datetime) -> bool:
    start = _start(event, now.tzinfo)
    low, high = window
    return start is not None and low <= start.hour < high


def _overlaps(event: dict[str, Any], day: date, clock: str, now: datetime) -> bool:
    """Whether the event runs during the hour from `clock` on `day` (all-day events always do)."""
    start, end = _start(event, now.tzinfo), _start({"start": event.get("end")}, now.tzinfo)
    hour, minute = (int(part) for part in clock.split(":"))
    begin = datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)
    return start is None or end is None or (start < begin + timedelta(hours=1) and end > begin)


def _label(first: date, last: date, now: datetime) -> str:
    names = {
        now.date(): "today",
        now.date() + timedelta(days=1): "tomorrow",
        now.date() - timedelta(days=1): "yesterday",
    }
    if first == last:
        return names.get(first, f"on {first:%A %d %B}")
    return f"from {first:%a %d %b} to {last:%a %d %b}"


async def next_meeting(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    found = await _every_calendar(services, "upcoming", {"within": "P14D", "limit": 200})
    person = reading.slots.get("person")
    for event in found.get("events", []):
        start = _start(event, now.tzinfo)
        if start is None or start < now or (person and not _involves(event, person)):
            continue
        who = ", ".join(a.get("name") or a.get("email", "") for a in event.get("attendees", [])[:4])
        place = f" at {event['location']}" if event.get("location") else ""
        text = f"Next: **{event.get('title')}** {_relative(start, now)} ({start:%a %H:%M}){place}"
        return text + (f" with {who}" if who else "") + ".", [
            Ref("event", event["id"], event.get("title", ""))
        ]
    return ("No meeting with " + person.title() if person else "No meeting") + " in the next two weeks.", []


def _involves(event: dict[str, Any], person: str) -> bool:
    people = [
        event.get("title", ""),
        *(f"{a.get('name', '')} {a.get('email', '')}" for a in event.get("attendees", [])),
    ]
    return any(person in text.lower() for text in people)


def _relative(start: datetime, now: datetime) -> str:
    minutes = int((start - now).total_seconds() // 60)
    if minutes < 60:
        return f"in {minutes} min"
    if start.date() == now.date():
        return f"in {minutes // 60} h {minutes % 60:02d} min"
    return "tomorrow" if start.date() == now.date() + timedelta(days=1) else f"on {start:%A}"


async def free_time(
    services: Services, reading: Reading, now: datetime, language: Language
) -> tuple[str, list[Ref]]:
    first, last = _span(reading, now)
    begin = datetime.combine(first, time(0), tzinfo=now.tzinfo)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=now.tzinfo)
    if reading.when.clock and not reading.when.until:
        hour, minute = (int(p) for p in reading.when.clock.split(":"))
        begin = datetime.combine(first, time(hour, minute), tzinfo=now.tzinfo)
        end = begin + timedelta(hours=1)
    elif reading.when.part and not reading.when.until:
        low, high = language.part_windows[reading.when.part]
        begin, end = (datetime.combine(first, time(h % 24), tzinfo=now.tzinfo) for h in (low, high))
    begin = max(begin, now.replace(second=0, microsecond=0))
    if begin >= end:
        return "That time has already passed.", []
    window = {"start": begin.isoformat(), "end": end.isoformat()}
    asked = {"duration": "PT30M", "window": window, "limit": 20}
    found = await free_in_every(services.call, asked, timedelta(minutes=30), services.connections)
    slots = found.get("slots", [])
    if not slots:
        return "No free time then (within working hours).", []
    lines = []
    for slot in slots[:10]:
        start, stop = (datetime.fromisoformat(slot[k]).astimezone(now.tzinfo) for k in ("start", "end"))
        day = f"{start:%a %d %b} " if first != last else ""
        lines.append(f"- {day}{start:%H:%M}–{stop:%H:%M}")
    return "You are free:\n" + "\n".join(lines), []


async def meeting_brief(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    meetings = [
        i.data for i in await services.items.query(["signals.meeting"], limit=200) if isinstance(i.data, dict)
    ]
    upcoming = sorted((m for m in meetings if m.get("starts_at")), key=lambda m: m["starts_at"])
    chosen = [m for m in upcoming if _matches(m, reading, now)]
    if not chosen:
        return "I found no meeting brief for that; briefs cover the next two days.", []
    meeting = chosen[0]
    start = datetime.fromisoformat(meeting["starts_at"]).astimezone(now.tzinfo)
    brief = meeting.get("brief") or "No brief was prepared for it."
    return f"**{meeting['summary']}** ({start:%a %H:%M})\n{brief}", [
        Ref("signal", meeting["source_id"], meeting["summary"])
    ]


def _matches(meeting: dict[str, Any], reading: Reading, now: datetime) -> bool:
    start = datetime.fromisoformat(meeting["starts_at"]).astimezone(now.tzinfo)
    slots, when = reading.slots, reading.when
    if slots.get("item") == "next" or not (slots.keys() & {"topic", "person", "time", "date"}):
        return start >= now
    if when.day and start.date() != when.day:
        return False
    if when.clock and f"{start:%H:%M}" != when.clock:
        return False
    text = " ".join([meeting.get("summary", ""), *meeting.get("people", [])]).lower()
    return all(slots[key] in text for key in ("topic", "person") if key in slots) and (
        start >= now or bool(when.day)
    )
