"""Event reminders (iCalendar VALARM) in one place: read from a component, written to one, and
as Google's `reminders` field.

A reminder is a number of minutes before the event starts (0 = at the start). Reading turns each
VALARM's TRIGGER into that number: a duration relative to the start (`-PT15M`), relative to the end
(the event's length added), or an absolute time; alarms after the start are left out, since they
remind of nothing to come. Writing replaces every VALARM with one DISPLAY alarm per reminder.
Google holds at most 5 overrides of up to 4 weeks (40,320 minutes); the same limits apply to every
backend, so an event can move between them unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated, Any

import icalendar
from icalendar.cal import Component
from pydantic import Field

__all__ = [
    "MAX_MINUTES",
    "MAX_REMINDERS",
    "Reminders",
    "alarms_from_google",
    "google_reminders",
    "read_reminders",
    "set_reminders",
]

MAX_REMINDERS = 5
MAX_MINUTES = 40_320  # four weeks

Reminders = Annotated[
    list[Annotated[int, Field(ge=0, le=MAX_MINUTES)]],
    Field(
        max_length=MAX_REMINDERS,
        description=f"Minutes before the start to remind (0 = at the start), at most {MAX_REMINDERS}, "
        f"each 0 to {MAX_MINUTES:,} (four weeks); [] removes every reminder",
    ),
]


def _instant(moment: date, zone: tzinfo) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone)


def _minutes_before(alarm: Component, start: datetime, end: datetime, zone: tzinfo) -> int | None:
    trigger = alarm.get("TRIGGER")
    if trigger is None:
        return None
    value = trigger.dt
    if isinstance(value, timedelta):
        related_end = str(trigger.params.get("RELATED", "START")).upper() == "END"
        offset = value + (end - start if related_end else timedelta(0))
        before = -offset
    elif isinstance(value, date):
        before = start - _instant(value, zone)
    else:
        return None
    minutes = int(before.total_seconds() // 60)
    return minutes if 0 <= minutes <= MAX_MINUTES else None


def read_reminders(component: Component, start: date, end: date, zone: tzinfo) -> list[int]:
    """The component's alarms as minutes before the start, sorted, without repeats."""
    begin, finish = _instant(start, zone), _instant(end, zone)
    found = {
        minutes
        for alarm in component.subcomponents
        if alarm.name == "VALARM" and (minutes := _minutes_before(alarm, begin, finish, zone)) is not None
    }
    return sorted(found)


def set_reminders(component: Component, minutes: list[int]) -> None:
    """Replace the component's alarms with one DISPLAY alarm per number of minutes."""
    component.subcomponents[:] = [c for c in component.subcomponents if c.name != "VALARM"]
    for before in sorted(set(minutes)):
        alarm = icalendar.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", str(component.get("SUMMARY", "Reminder")) or "Reminder")
        alarm.add("TRIGGER", -timedelta(minutes=before))
        component.add_component(alarm)


def google_reminders(minutes: list[int]) -> dict[str, Any]:
    """Google's `reminders` field for these minutes (pop-ups; no calendar default)."""
    return {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": m} for m in sorted(set(minutes))],
    }


def alarms_from_google(item: dict[str, Any], event: Component) -> None:
    """Google's reminder overrides as VALARMs on the event made from `item` (defaults are unknown here)."""
    reminders = item.get("reminders") or {}
    if not reminders.get("useDefault", True):
        set_reminders(event, [int(o.get("minutes", 0)) for o in reminders.get("overrides", [])])
