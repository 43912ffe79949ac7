"""Finding free time: who is busy when, and the stretches inside working hours where nobody is.

`busy_intervals` reads busy time off events: the user's own (events they have not declined and that
are not marked free or cancelled) and, for each attendee named, the events that person organises or
attends without having declined. `find_free_slots` subtracts the merged busy time from the working
hours inside a window and keeps the stretches long enough for the meeting. `attendee_busy` asks
the provider for other people's free/busy (their calendars' server), and says whose it could not read. Plain functions: sorting
and one sweep, so two weeks of five people's calendars take well under a millisecond per hundred events.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from mcp_servers.calendar.errors import InvalidEventError
from mcp_servers.calendar.ics_events import sort_key
from mcp_servers.calendar.models import Event, FreeSlot, FreeSlotList
from mcp_servers.calendar.provider import AttendeeBusy, CalendarProvider

__all__ = ["WorkingHours", "attendee_busy", "busy_intervals", "find_free_slots"]

Interval = tuple[datetime, datetime]
MAX_WINDOW = timedelta(days=366)


class WorkingHours(BaseModel):
    """The part of each day a meeting may take place in."""

    start: time = Field(time(9), description="Earliest start, local time (e.g. 09:00)")
    end: time = Field(time(17), description="Latest end, local time (e.g. 17:30)")
    days: list[int] = Field([0, 1, 2, 3, 4], description="Weekdays, Monday = 0 ... Sunday = 6")
    timezone: str | None = Field(None, description="IANA zone of these hours; the user's zone if omitted")

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if not days or any(day not in range(7) for day in days):
            raise ValueError("days must list weekdays 0 (Monday) to 6 (Sunday), at least one")
        return sorted(set(days))

    def zone(self, default: tzinfo) -> tzinfo:
        if self.timezone is None:
            return default
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
            raise InvalidEventError(
                f"unknown timezone {self.timezone!r}; use an IANA name like Europe/Berlin"
            ) from exc


def busy_intervals(
    events: Iterable[Event], zone: tzinfo, user: str | None, attendees: Sequence[str] = ()
) -> list[Interval]:
    """Busy time of the user and of `attendees` (e-mail addresses) according to `events`."""
    people = {address.lower() for address in attendees}
    own = user.lower() if user else None
    busy: list[Interval] = []
    for event in events:
        if not event.busy or event.status == "cancelled":
            continue
        answers = {(a.email or "").lower(): a.response for a in event.attendees}
        if event.organizer and event.organizer.email:
            answers.setdefault(event.organizer.email.lower(), "accepted")
        mine = own is None or own not in answers or answers[own] != "declined"
        theirs = any(answers.get(person) not in (None, "declined") for person in people)
        if mine or theirs:
            busy.append((sort_key(event.start, zone), sort_key(event.end, zone)))
    return busy


async def attendee_busy(
    provider: CalendarProvider, people: list[str], begin: datetime, finish: datetime
) -> AttendeeBusy:
    """Other people's busy time from the provider's free/busy, or why it could not be read."""
    if not people:
        return AttendeeBusy()
    read = getattr(provider, "attendee_busy", None)
    if read is None:  # a backend that predates free/busy: say so rather than call them free
        return AttendeeBusy(unread=dict.fromkeys(people, "this calendar backend cannot read free/busy"))
    return await read(people, begin, finish)


def find_free_slots(
    busy: Iterable[Interval],
    duration: timedelta,
    window: Interval,
    working_hours: WorkingHours,
    zone: tzinfo,
    limit: int = 100,
) -> FreeSlotList:
    """Free stretches of at least `duration` inside `window` and working hours, earliest first."""
    start, end = window
    _check(duration, start, end, working_hours)
    merged = _merge(sorted(busy))
    slots: list[FreeSlot] = []
    for day_start, day_end in _working_periods(start, end, working_hours, working_hours.zone(zone)):
        for free_start, free_end in _subtract(day_start, day_end, merged):
            if free_end - free_start >= duration:
                if len(slots) == limit:
                    return FreeSlotList(slots=slots, truncated=True)
                slots.append(FreeSlot(start=free_start, end=free_end))
    return FreeSlotList(slots=slots)


def _check(duration: timedelta, start: datetime, end: datetime, hours: WorkingHours) -> None:
    if duration <= timedelta(0):
        raise InvalidEventError("the meeting duration must be positive, e.g. 30 minutes")
    if end <= start:
        raise InvalidEventError("the search window ends before it starts")
    if end - start > MAX_WINDOW:
        raise InvalidEventError("the search window is longer than a year; search a shorter one")
    if hours.end <= hours.start:
        raise InvalidEventError("working hours end before they start (overnight hours are not supported)")


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _working_periods(start: datetime, end: datetime, hours: WorkingHours, zone: tzinfo) -> list[Interval]:
    periods: list[Interval] = []
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in hours.days:
            opens = max(_at(day, hours.start, zone), start)
            closes = min(_at(day, hours.end, zone), end)
            if opens < closes:
                periods.append((opens, closes))
        day += timedelta(days=1)
    return periods


def _at(day: date, moment: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone)


def _subtract(start: datetime, end: datetime, busy: list[Interval]) -> list[Interval]:
    """[start, end) minus the sorted, merged `busy` intervals."""
    free: list[Interval] = []
    cursor = start
    index = max(bisect.bisect_left(busy, (start, start)) - 1, 0)
    while index < len(busy) and busy[index][0] < end:
        busy_start, busy_end = busy[index]
        if busy_end > cursor:
            if busy_start > cursor:
                free.append((cursor, min(busy_start, end)))
            cursor = max(cursor, busy_end)
        index += 1
    if cursor < end:
        free.append((cursor, end))
    return free
