"""The demo calendars as Pepper's calendar server reads them: recurrences expand, today and tomorrow are busy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.models import Event
from orchestrator.demo import DEMO_TIMEZONE, DEMO_USER_ADDRESS, DemoSummary, generate_demo
from orchestrator.demo.agenda import ATLAS_TITLE, QBR_TITLE, RENEWAL_TITLE

from .conftest import NOW, Stored

pytestmark = pytest.mark.anyio
ZONE = ZoneInfo(DEMO_TIMEZONE)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE)


async def events(calendar_dir: Path, first: date, days: int) -> list[Event]:
    provider = IcsProvider([calendar_dir], ZONE)
    found = await provider.list_events(day_start(first), day_start(first + timedelta(days=days)), None, 1000)
    assert found.errors == [] and not found.truncated
    return found.events


def titled(found: list[Event], title: str) -> list[Event]:
    return [event for event in found if event.title == title]


async def test_calendar_parses_cleanly_with_the_calendar_server(demo: DemoSummary) -> None:
    calendars = await IcsProvider([demo.calendar_dir], ZONE).list_calendars()
    assert [(c.id, c.name, c.error, c.warnings) for c in calendars] == [
        ("personal", "Personal", None, []),
        ("work", "Work", None, []),
    ]


async def test_calendar_today_has_the_standup_the_one_on_one_and_the_launch_review(demo: DemoSummary) -> None:
    today = await events(demo.calendar_dir, NOW.date(), 1)
    titles = [event.title for event in today]
    assert {"Daily stand-up", "Alex / Jordan 1:1", ATLAS_TITLE, RENEWAL_TITLE} <= set(titles)
    (standup,) = titled(today, "Daily stand-up")
    assert standup.recurring and standup.start == datetime(2026, 11, 24, 9, 30, tzinfo=ZONE)


async def test_calendar_meetings_today_do_not_overlap(demo: DemoSummary) -> None:
    today = sorted(
        (e for e in await events(demo.calendar_dir, NOW.date(), 1) if not e.all_day), key=lambda e: e.start
    )
    assert all(earlier.end <= later.start for earlier, later in zip(today, today[1:], strict=False))
    (soon,) = titled(today, RENEWAL_TITLE)
    assert NOW + timedelta(minutes=45) <= soon.start <= NOW + timedelta(hours=3)


async def test_calendar_one_on_one_recurs_weekly(demo: DemoSummary) -> None:
    found = titled(await events(demo.calendar_dir, NOW.date() - timedelta(days=27), 56), "Alex / Jordan 1:1")
    starts = [event.start for event in found]
    assert len(starts) == 8 and all(
        b - a == timedelta(days=7) for a, b in zip(starts, starts[1:], strict=False)
    )
    assert all(start.weekday() == NOW.weekday() for start in starts)


async def test_calendar_standup_runs_on_weekdays_except_the_cancelled_and_moved_days(
    demo: DemoSummary,
) -> None:
    first = NOW.date() - timedelta(days=21)
    found = [e for e in await events(demo.calendar_dir, first, 21) if e.uid == "standup@pepper.demo"]
    weekdays = [first + timedelta(days=n) for n in range(21) if (first + timedelta(days=n)).weekday() < 5]
    days = [event.start.date() for event in found]
    assert len(days) == len(weekdays) - 1 and set(days) < set(weekdays)  # one day cancelled (EXDATE)
    (moved,) = [
        event for event in found if event.start.time() != datetime.min.replace(hour=9, minute=30).time()
    ]
    assert moved.title.startswith("Daily stand-up (moved") and moved.recurrence_id is not None


async def test_calendar_planning_is_every_other_thursday(demo: DemoSummary) -> None:
    found = titled(await events(demo.calendar_dir, NOW.date() - timedelta(days=42), 84), "Product planning")
    assert len(found) == 6 and {event.start.weekday() for event in found} == {3}
    assert {b.start - a.start for a, b in zip(found, found[1:], strict=False)} == {timedelta(days=14)}


async def test_calendar_tomorrow_has_the_invitation_waiting_for_an_answer(demo: DemoSummary) -> None:
    tomorrow = await events(demo.calendar_dir, NOW.date() + timedelta(days=1), 1)
    (review,) = titled(tomorrow, QBR_TITLE)
    answers = {attendee.email: attendee.response for attendee in review.attendees}
    assert answers[DEMO_USER_ADDRESS] == "needs-action"
    assert review.conference_link and review.conference_link.startswith("https://teams.microsoft.com/")
    (lock,) = [event for event in tomorrow if event.all_day]
    assert lock.start == NOW.date() + timedelta(days=1) and not lock.busy


async def test_calendar_launch_review_shares_title_and_people_with_mail(
    demo: DemoSummary, mailbox: list[Stored]
) -> None:
    (review,) = titled(await events(demo.calendar_dir, NOW.date(), 1), ATLAS_TITLE)
    people = {attendee.email for attendee in review.attendees} - {DEMO_USER_ADDRESS}
    related = [s for s in mailbox if ATLAS_TITLE in s.message.subject and s.message.from_.email in people]
    assert related and all(NOW - s.message.date < timedelta(days=4) for s in related)
    assert "needs-action" in {attendee.response for attendee in review.attendees}
    assert review.conference_link and review.conference_link.startswith("https://meet.google.com/")


async def test_calendar_on_a_saturday_has_no_standup_but_still_has_meetings(tmp_path: Path) -> None:
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)
    summary = generate_demo(tmp_path, now=saturday)
    today = await events(summary.calendar_dir, saturday.date(), 1)
    titles = {event.title for event in today}
    assert "Daily stand-up" not in titles and {ATLAS_TITLE, "Running club"} <= titles
