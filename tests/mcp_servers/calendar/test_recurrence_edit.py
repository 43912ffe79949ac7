"""Recurrence changes on ICS files: rules, one occurrence, this and following, cancellations; and the pure helpers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
from pydantic import ValidationError

from mcp_servers.calendar.errors import InvalidEventError
from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.recurrence_edit import split_series
from tests.mcp_servers.calendar.recurrence_scenario import (
    ZONE,
    expansion,
    occurrence,
    walk_through_recurrence_changes,
)


@pytest.mark.anyio
async def test_update_event_walks_through_every_recurrence_change_on_an_ics_file(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "work.ics"], ZONE)
    await walk_through_recurrence_changes(provider)
    written = icalendar.Calendar.from_ical((tmp_path / "work.ics").read_bytes())
    uids = {str(c["UID"]) for c in written.walk("VEVENT")}
    assert len(uids) == 2
    successor = next(c for c in written.walk("VEVENT") if "RELATED-TO" in c)
    assert str(successor["RELATED-TO"]) in uids


@pytest.mark.anyio
async def test_update_event_keeps_an_override_with_its_occurrence_when_the_series_moves(
    tmp_path: Path,
) -> None:
    provider = IcsProvider([tmp_path / "work.ics"], ZONE)
    await _weekly(provider)
    series = "work:" + (await provider.list_events(*_window(), None, 10)).events[0].uid
    await provider.update_event(occurrence(series, "2026-03-09", 10), EventPatch(title="Review (special)"))
    await provider.update_event(occurrence(series, "2026-03-16", 10), EventPatch(cancel=True))
    await provider.update_event(series, EventPatch(start=datetime(2026, 3, 2, 12, tzinfo=ZONE)))
    assert await expansion(provider, "Review") == [
        ("03-02", "12:00", "Review"),
        ("03-09", "12:00", "Review (special)"),
        ("03-23", "12:00", "Review"),
    ]


@pytest.mark.anyio
async def test_update_event_refuses_a_split_at_the_first_occurrence(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "work.ics"], ZONE)
    await _weekly(provider)
    series = "work:" + (await provider.list_events(*_window(), None, 10)).events[0].uid
    with pytest.raises(InvalidEventError, match="use scope 'series'"):
        await provider.update_event(
            occurrence(series, "2026-03-02", 10), EventPatch(title="x"), scope="following"
        )
    with pytest.raises(InvalidEventError, match="delete it with delete_event"):
        await provider.update_event(series, EventPatch(cancel=True))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=SOMETIMES", "not a valid RRULE"),
        ("INTERVAL=2", "FREQ is missing"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20260101", "both COUNT and UNTIL"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("", "empty"),
    ],
)
def test_event_patch_rejects_an_invalid_rule_with_a_clear_message(rule: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventPatch(recurrence=rule)


def test_event_patch_accepts_a_rule_with_its_prefix_and_stores_it_without() -> None:
    assert EventPatch(recurrence="RRULE:FREQ=WEEKLY;INTERVAL=2").recurrence == "FREQ=WEEKLY;INTERVAL=2"
    until_utc = "FREQ=DAILY;UNTIL=20260304T225959Z;BYDAY=MO,TU"
    assert EventPatch(recurrence=until_utc).recurrence == until_utc


def test_split_series_continues_a_counted_all_day_series_with_what_is_left() -> None:
    calendar = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
        "DTSTART;VALUE=DATE:20260301\r\nDTEND;VALUE=DATE:20260302\r\nRRULE:FREQ=DAILY;COUNT=10\r\n"
        "EXDATE;VALUE=DATE:20260302,20260308\r\nSUMMARY:Trip\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    new = split_series(calendar, "a@x", "20260305", ZONE)
    old = calendar.walk("VEVENT")[0]
    assert old["RRULE"]["UNTIL"] == [datetime(2026, 3, 4).date()]
    assert new[0]["RRULE"]["COUNT"] == [6]
    assert new[0]["DTSTART"].dt == datetime(2026, 3, 5).date()
    assert [value.dt for value in new[0]["EXDATE"].dts] == [datetime(2026, 3, 8).date()]


def _window() -> tuple[datetime, datetime]:
    return datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 5, 1, tzinfo=ZONE)


async def _weekly(provider: IcsProvider, count: int = 4) -> None:
    start = datetime(2026, 3, 2, 10, tzinfo=ZONE)
    rule = f"FREQ=WEEKLY;COUNT={count}"
    await provider.create_event(
        EventDraft(title="Review", start=start, end=start.replace(hour=11), recurrence=rule)
    )


@pytest.mark.anyio
async def test_update_event_turns_a_timed_series_all_day_with_its_until_fitted(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "work.ics"], ZONE)
    start = datetime(2026, 3, 2, 10, tzinfo=ZONE)
    created = await provider.create_event(
        EventDraft(
            title="Offsite", start=start, end=start.replace(hour=11), recurrence="FREQ=DAILY;UNTIL=20260304"
        )
    )
    assert [e.start.day for e in (await provider.list_events(*_window(), None, 10)).events] == [2, 3, 4]
    await provider.update_event(created.id, EventPatch(start=date(2026, 3, 2), end=date(2026, 3, 3)))
    events = (await provider.list_events(*_window(), None, 10)).events
    assert [(e.start, e.all_day) for e in events] == [(date(2026, 3, day), True) for day in (2, 3, 4)]


@pytest.mark.anyio
async def test_update_event_split_with_a_new_time_takes_later_exceptions_along(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "work.ics"], ZONE)
    await _weekly(provider, count=6)
    series = "work:" + (await provider.list_events(*_window(), None, 10)).events[0].uid
    await provider.update_event(occurrence(series, "2026-03-23", 10), EventPatch(title="Review (guests)"))
    await provider.update_event(occurrence(series, "2026-03-30", 10), EventPatch(cancel=True))
    await provider.update_event(
        occurrence(series, "2026-03-16", 10),
        EventPatch(start=datetime(2026, 3, 16, 13, tzinfo=ZONE)),
        scope="following",
    )
    assert await expansion(provider, "Review") == [
        ("03-02", "10:00", "Review"),
        ("03-09", "10:00", "Review"),
        ("03-16", "13:00", "Review"),
        ("03-23", "13:00", "Review (guests)"),
        ("04-06", "13:00", "Review"),
    ]
