"""The local ICS provider over real files: discovery, changes on disk, writes, bad files, watching."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import icalendar
import pytest

from mcp_servers.calendar.errors import (
    CalendarSourceError,
    EventNotFoundError,
    InvalidEventError,
    WriteNotAllowedError,
)
from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.provider import EventDraft, EventPatch

ZONE = ZoneInfo("Europe/Berlin")
YEAR = (datetime(2026, 1, 1, tzinfo=ZONE), datetime(2027, 1, 1, tzinfo=ZONE))

WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
X-WR-CALNAME:Work
BEGIN:VEVENT
UID:standup@example.com
DTSTART;TZID=Europe/Berlin:20260302T090000
DTEND;TZID=Europe/Berlin:20260302T091500
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Standup
ORGANIZER;CN=Boss:mailto:boss@example.com
ATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Me:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@example.com
LOCATION:https://meet.google.com/abc-defg-hij
END:VEVENT
END:VCALENDAR
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text.replace("\n", "\r\n"))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _write(tmp_path / "work.ics", WEEKLY)
    _write(tmp_path / "home.ics", WEEKLY.replace("standup@", "gym@").replace("Standup", "Gym"))
    return tmp_path


@pytest.mark.anyio
async def test_provider_lists_one_calendar_per_file_in_a_folder(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE, organizer="me@example.com")
    calendars = await provider.list_calendars()
    assert [(c.id, c.name, c.writable, c.error) for c in calendars] == [
        ("home", "Work", True, None),
        ("work", "Work", True, None),
    ]


@pytest.mark.anyio
async def test_provider_lists_events_of_every_calendar_in_start_order(folder: Path) -> None:
    events = (await IcsProvider([folder], ZONE).list_events(*YEAR, None, 100)).events
    assert len(events) == 8
    assert [e.start for e in events] == sorted(e.start for e in events)
    standup = next(e for e in events if e.calendar == "work")
    assert standup.conference_link == "https://meet.google.com/abc-defg-hij"
    assert standup.organizer is not None and standup.organizer.name == "Boss"
    assert {(a.email, a.response) for a in standup.attendees} == {
        ("me@example.com", "needs-action"),
        ("ann@example.com", "accepted"),
    }


@pytest.mark.anyio
async def test_provider_filters_by_calendar_and_refuses_an_unknown_one(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    events = (await provider.list_events(*YEAR, ["home"], 100)).events
    assert {e.calendar for e in events} == {"home"}
    with pytest.raises(CalendarSourceError, match="no calendar nope"):
        await provider.list_events(*YEAR, ["nope"], 100)


@pytest.mark.anyio
async def test_provider_sees_a_file_changed_on_disk(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    assert len((await provider.list_events(*YEAR, ["work"], 100)).events) == 4
    _write(folder / "work.ics", WEEKLY.replace("COUNT=4", "COUNT=6"))
    assert len((await provider.list_events(*YEAR, ["work"], 100)).events) == 6


@pytest.mark.anyio
async def test_provider_keeps_serving_other_calendars_when_one_file_is_broken(folder: Path) -> None:
    (folder / "broken.ics").write_text("BEGIN:VCALENDAR\r\nthis is garbage\r\n")
    provider = IcsProvider([folder], ZONE)
    broken = next(c for c in await provider.list_calendars() if c.id == "broken")
    assert broken.error is not None and "broken.ics" in broken.error
    result = await provider.list_events(*YEAR, None, 100)
    assert len(result.events) == 8
    assert any("broken.ics" in error for error in result.errors)


@pytest.mark.anyio
async def test_provider_gets_a_series_and_one_occurrence_by_id(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    second = (await provider.list_events(*YEAR, ["work"], 100)).events[1]
    assert second.id == "work:standup@example.com:20260309T080000Z"
    assert (await provider.get_event(second.id)).start == datetime(2026, 3, 9, 9, tzinfo=ZONE)
    series = await provider.get_event("work:standup@example.com")
    assert series.recurring and series.recurrence_id is None
    with pytest.raises(EventNotFoundError):
        await provider.get_event("work:standup@example.com:20260310T080000Z")
    with pytest.raises(EventNotFoundError, match="not an event id"):
        await provider.get_event("no-colon-here")


@pytest.mark.anyio
async def test_provider_creates_an_event_in_a_file_that_did_not_exist(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "new.ics"], ZONE, organizer="me@example.com")
    draft = EventDraft(
        title="Lunch",
        start=datetime(2026, 4, 1, 12, tzinfo=ZONE),
        end=datetime(2026, 4, 1, 13, tzinfo=ZONE),
        attendees=["ann@example.com"],
    )
    created = await provider.create_event(draft)
    assert created.calendar == "new" and created.title == "Lunch"
    assert created.organizer is not None and created.organizer.email == "me@example.com"
    reread = icalendar.Calendar.from_ical((tmp_path / "new.ics").read_bytes())
    assert [str(e["SUMMARY"]) for e in reread.walk("VEVENT")] == ["Lunch"]
    assert os.listdir(tmp_path) == ["new.ics"]  # no temporary file left behind


@pytest.mark.anyio
async def test_provider_refuses_an_event_that_ends_before_it_starts(tmp_path: Path) -> None:
    provider = IcsProvider([tmp_path / "cal.ics"], ZONE)
    draft = EventDraft(
        title="Backwards",
        start=datetime(2026, 4, 1, 13, tzinfo=UTC),
        end=datetime(2026, 4, 1, 12, tzinfo=UTC),
    )
    with pytest.raises(InvalidEventError, match="ends .* before it starts"):
        await provider.create_event(draft)
    mixed = EventDraft(title="Mixed", start=date(2026, 4, 1), end=datetime(2026, 4, 2, tzinfo=UTC))
    with pytest.raises(InvalidEventError, match="both be dates"):
        await provider.create_event(mixed)


@pytest.mark.anyio
async def test_provider_moves_one_occurrence_and_leaves_the_rest(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    occurrence_id = "work:standup@example.com:20260316T080000Z"
    moved = await provider.update_event(
        occurrence_id, EventPatch(start=datetime(2026, 3, 17, 10, tzinfo=ZONE))
    )
    assert moved.start == datetime(2026, 3, 17, 10, tzinfo=ZONE)
    assert moved.end == datetime(2026, 3, 17, 10, 15, tzinfo=ZONE)
    days = [e.start.day for e in (await provider.list_events(*YEAR, ["work"], 100)).events]
    assert days == [2, 9, 17, 23]


@pytest.mark.anyio
async def test_provider_deletes_one_occurrence_then_the_whole_series(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    await provider.delete_event("work:standup@example.com:20260309T080000Z")
    days = [e.start.day for e in (await provider.list_events(*YEAR, ["work"], 100)).events]
    assert days == [2, 16, 23]
    await provider.delete_event("work:standup@example.com")
    assert (await provider.list_events(*YEAR, ["work"], 100)).events == []
    with pytest.raises(EventNotFoundError):
        await provider.delete_event("work:standup@example.com")


@pytest.mark.anyio
async def test_provider_records_an_answer_to_an_invitation(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    answered = await provider.respond_to_invite("work:standup@example.com", "me@example.com", "accepted")
    assert ("me@example.com", "accepted") in {(a.email, a.response) for a in answered.attendees}
    with pytest.raises(InvalidEventError, match="not invited"):
        await provider.respond_to_invite("work:standup@example.com", "stranger@example.com", "declined")


@pytest.mark.anyio
async def test_provider_refuses_to_write_a_read_only_file(folder: Path) -> None:
    (folder / "work.ics").chmod(0o444)
    provider = IcsProvider([folder / "work.ics"], ZONE)
    assert not (await provider.list_calendars())[0].writable
    with pytest.raises(WriteNotAllowedError, match="read-only"):
        await provider.delete_event("work:standup@example.com")


@pytest.mark.anyio
async def test_provider_fingerprints_change_only_for_the_edited_series(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    before = await provider.fingerprints()
    await provider.update_event("work:standup@example.com", EventPatch(title="Daily standup"))
    after = await provider.fingerprints()
    assert before["home"]["gym@example.com"] == after["home"]["gym@example.com"]
    assert after["work"]["standup@example.com"][1] == "Daily standup"
    assert before["work"]["standup@example.com"] != after["work"]["standup@example.com"]


@pytest.mark.anyio
async def test_provider_watch_reports_a_file_changed_on_disk(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    changed = anyio.Event()

    async def on_change() -> None:
        changed.set()

    async with anyio.create_task_group() as group:
        group.start_soon(provider.watch, on_change)
        with anyio.fail_after(20):
            while not changed.is_set():  # the watcher may start after the first write: write again
                _write(folder / "work.ics", WEEKLY.replace("Standup", "Changed"))
                with anyio.move_on_after(1):
                    await changed.wait()
        group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_provider_bounds_a_rule_with_50000_instances_and_says_it_truncated(tmp_path: Path) -> None:
    rule = WEEKLY.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=MINUTELY;INTERVAL=10;COUNT=50000")
    _write(tmp_path / "busy.ics", rule)
    provider = IcsProvider([tmp_path / "busy.ics"], ZONE)
    with anyio.fail_after(60):
        result = await provider.list_events(*YEAR, None, 1000)
    assert result.truncated and len(result.events) == 1000
    assert result.events[0].start == datetime(2026, 3, 2, 9, tzinfo=ZONE)


@pytest.mark.anyio
async def test_provider_leaves_the_event_whole_when_an_edit_is_refused(folder: Path) -> None:
    provider = IcsProvider([folder], ZONE)
    with pytest.raises(ValueError, match="not an e-mail address"):  # the patch itself refuses it
        EventPatch(attendees=["ann@example.com", "bob"])
    unchecked = EventPatch.model_construct(attendees=["ann@example.com", "bob"])  # as if it got past
    with pytest.raises(InvalidEventError, match="not an e-mail address"):
        await provider.update_event("work:standup@example.com", unchecked)
    event = await provider.get_event("work:standup@example.com")
    assert {a.email for a in event.attendees} == {"me@example.com", "ann@example.com"}


@pytest.mark.anyio
async def test_provider_finds_late_occurrences_of_a_very_dense_series(tmp_path: Path) -> None:
    rule = WEEKLY.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=MINUTELY;INTERVAL=10")
    _write(tmp_path / "dense.ics", rule)
    provider = IcsProvider([tmp_path / "dense.ics"], ZONE)
    day = (datetime(2026, 12, 1, tzinfo=ZONE), datetime(2026, 12, 2, tzinfo=ZONE))
    result = await provider.list_events(*day, None, 1000)
    assert len(result.events) == 145 and not result.truncated  # 144 that start, and 23:50 under way
    assert result.events[1].start == day[0]


@pytest.mark.anyio
async def test_provider_watch_reports_a_change_to_a_single_file(tmp_path: Path) -> None:
    calendar = _write(tmp_path / "work.ics", WEEKLY)
    provider = IcsProvider([calendar], ZONE)
    changes: list[str] = []
    changed = anyio.Event()

    async def on_change() -> None:
        changes.append("x")
        changed.set()

    async with anyio.create_task_group() as group:
        group.start_soon(provider.watch, on_change)
        with anyio.fail_after(20):
            while not changed.is_set():
                _write(calendar, WEEKLY.replace("Standup", "Changed"))
                with anyio.move_on_after(1):
                    await changed.wait()
        group.cancel_scope.cancel()
    assert (await provider.list_events(*YEAR, None, 100)).events[0].title == "Changed"
    assert [c.id for c in await provider.list_calendars()] == ["work"]
