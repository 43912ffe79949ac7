"""One walk through every kind of recurrence change, run against each provider; expansions checked after each step.

A weekly Monday series is created, moved as a whole through one occurrence, given a new rule
(every two weeks until the end of May), has one occurrence moved and another cancelled, is split
"this and following" with a new title and time, and the new series is ended early. The expected
occurrences are the same for every backend, DST change of 29 March included.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.calendar.errors import CalendarError
from mcp_servers.calendar.provider import CalendarProvider, EventDraft, EventPatch

ZONE = ZoneInfo("Europe/Berlin")
SPRING = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 7, 1, tzinfo=ZONE))


def _at(day: str, hour: int) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=ZONE).replace(hour=hour)


async def expansion(provider: CalendarProvider, title: str) -> list[tuple[str, str, str]]:
    """The occurrences whose title starts with `title`: (day, local time, title)."""
    events = (await provider.list_events(*SPRING, None, 500)).events
    return [
        (e.start.strftime("%m-%d"), e.start.astimezone(ZONE).strftime("%H:%M"), e.title)
        for e in events
        if e.title.startswith(title)
    ]


def occurrence(series_id: str, day: str, hour: int) -> str:
    """The id of the occurrence that originally started on `day` at `hour` (Berlin time)."""
    utc = _at(day, hour).astimezone(ZoneInfo("UTC"))
    return f"{series_id}:{utc.strftime('%Y%m%dT%H%M%SZ')}"


async def walk_through_recurrence_changes(provider: CalendarProvider, calendar: str | None = None) -> None:
    draft = EventDraft(
        title="Review", start=_at("2026-03-02", 10), end=_at("2026-03-02", 11),
        calendar=calendar, recurrence="FREQ=WEEKLY;COUNT=8",
    )  # fmt: skip
    series = (await provider.create_event(draft)).id
    weekly = ["03-02", "03-09", "03-16", "03-23", "03-30", "04-06", "04-13", "04-20"]
    assert await expansion(provider, "Review") == [(day, "10:00", "Review") for day in weekly]

    moved = await provider.update_event(
        occurrence(series, "2026-03-09", 10), EventPatch(start=_at("2026-03-09", 11)), scope="series"
    )
    assert moved.id == series
    assert await expansion(provider, "Review") == [(day, "11:00", "Review") for day in weekly]

    await provider.update_event(series, EventPatch(recurrence="FREQ=WEEKLY;INTERVAL=2;UNTIL=20260531"))
    fortnightly = ["03-02", "03-16", "03-30", "04-13", "04-27", "05-11", "05-25"]
    assert await expansion(provider, "Review") == [(day, "11:00", "Review") for day in fortnightly]

    changed = await provider.update_event(
        occurrence(series, "2026-03-16", 11),
        EventPatch(title="Review (moved)", start=_at("2026-03-17", 14)),
        scope="instance",
    )
    assert (changed.title, changed.start) == ("Review (moved)", _at("2026-03-17", 14))
    await provider.update_event(occurrence(series, "2026-03-30", 11), EventPatch(cancel=True))
    kept = [("03-02", "11:00", "Review"), ("03-17", "14:00", "Review (moved)")]
    later = [(day, "11:00", "Review") for day in ("04-13", "04-27", "05-11", "05-25")]
    assert await expansion(provider, "Review") == kept + later

    successor = await provider.update_event(
        occurrence(series, "2026-04-27", 11),
        EventPatch(title="Review v2", start=_at("2026-04-27", 15)),
        scope="following",
    )
    assert successor.uid != moved.uid and successor.title == "Review v2"
    first_part = [*kept, ("04-13", "11:00", "Review")]
    second = [(day, "15:00", "Review v2") for day in ("04-27", "05-11", "05-25")]
    assert await expansion(provider, "Review") == first_part + second

    await provider.update_event(
        occurrence(successor.id, "2026-05-25", 15), EventPatch(cancel=True), scope="following"
    )
    assert await expansion(provider, "Review") == first_part + second[:2]

    with pytest.raises(CalendarError, match="scope 'following' needs the id of one occurrence"):
        await provider.update_event(series, EventPatch(title="x"), scope="following")
    with pytest.raises(CalendarError, match="no recurrence rule of its own"):
        await provider.update_event(
            occurrence(series, "2026-04-13", 11), EventPatch(recurrence="FREQ=DAILY"), scope="instance"
        )
