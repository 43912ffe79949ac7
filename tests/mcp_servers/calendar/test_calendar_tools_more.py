"""Reminders (VALARM), moving events between calendars, access roles and quick-add: over the MCP
surface on ICS files, and on the Google emulator, Radicale (CalDAV) and Composio where they apply."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.calendar.errors import InvalidEventError, WriteNotAllowedError
from mcp_servers.calendar.google_provider import GoogleCalendarProvider
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.reminders import read_reminders
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar import test_caldav_provider as caldav_tests
from tests.mcp_servers.calendar.fakes import ManualClock
from tests.mcp_servers.calendar.google_emulator import google_calendar_emulator
from tests.mcp_servers.calendar.test_google_provider import _service

radicale, account = caldav_tests.radicale, caldav_tests.account  # the CalDAV tests' fixtures
caldav_provider = caldav_tests._provider
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)  # a Monday
SERIES = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:weekly@example.com\r
DTSTART;TZID=Europe/Berlin:20260302T090000\r
DTEND;TZID=Europe/Berlin:20260302T093000\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:Weekly review\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:soon\r
TRIGGER:-PT15M\r
END:VALARM\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _settings(tmp_path: Path, **extra: object) -> CalendarSettings:
    folder = tmp_path / "cals"
    folder.mkdir(exist_ok=True)
    (folder / "work.ics").write_text(SERIES)
    (folder / "home.ics").write_text(SERIES.replace("weekly@example.com", "other@example.com"))
    values = {
        "ics": [folder],
        "timezone": "Europe/Berlin",
        "state_dir": tmp_path / "state",
        "poll_seconds": 3600,
    }
    return CalendarSettings(**(values | extra))


async def _call(client: Client, tool: str, **arguments: object) -> dict:
    return (await client.call_tool(tool, arguments)).structured_content


def _alarm_triggers(path: Path) -> list[str]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return sorted(str(a["TRIGGER"].to_ical().decode()) for a in calendar.walk("VALARM"))


@pytest.mark.anyio
async def test_reminders_are_read_written_replaced_and_removed_in_the_file(tmp_path: Path) -> None:
    server = build_server(_settings(tmp_path, allow_write=True), clock=ManualClock(NOW))
    async with Client(server) as client:
        series = await _call(client, "get_event", event_id="work:weekly@example.com")
        assert series["reminders"] == [15]
        created = await _call(
            client,
            "create_event",
            draft={"title": "Dentist", "start": "2026-03-04T10:00:00", "end": "2026-03-04T11:00:00",
                   "calendar": "home", "reminders": [60, 10, 10]},
        )  # fmt: skip
        assert created["reminders"] == [10, 60]
        assert _alarm_triggers(tmp_path / "cals" / "home.ics") == ["-PT10M", "-PT15M", "-PT1H"]
        changed = await _call(client, "update_event", event_id=created["id"], changes={"reminders": [0]})
        assert changed["reminders"] == [0]
        cleared = await _call(client, "update_event", event_id=created["id"], changes={"reminders": []})
        assert cleared["reminders"] == []
        for bad, words in (
            ([5] * 6, "at most 5"),
            ([-5], "from 0 to 40,320"),
            ([50_000], "from 0 to 40,320"),
        ):
            with pytest.raises(ToolError, match=words):
                await _call(client, "update_event", event_id=created["id"], changes={"reminders": bad})


def test_an_alarm_relative_to_the_end_or_at_a_fixed_time_is_read_as_minutes_before_the_start() -> None:
    event = icalendar.Event()
    start, end = datetime(2026, 3, 2, 9, tzinfo=ZONE), datetime(2026, 3, 2, 10, tzinfo=ZONE)
    for trigger, params in ((-timedelta(hours=2), {"RELATED": "END"}), (datetime(2026, 3, 1, 9, tzinfo=ZONE), {}),
                            (timedelta(minutes=5), {})):  # fmt: skip
        alarm = icalendar.Alarm()
        alarm.add("TRIGGER", trigger, parameters=params)
        event.add_component(alarm)
    assert read_reminders(event, start, end, ZONE) == [60, 1440]  # an alarm after the start is left out


@pytest.mark.anyio
async def test_a_series_moves_to_another_calendar_with_its_reminders_and_leaves_the_first(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, allow_write=True)
    (tmp_path / "cals" / "shared.ics").write_text(SERIES.replace("weekly@example.com", "x@example.com"))
    (tmp_path / "cals" / "shared.ics").chmod(0o444)
    async with Client(build_server(settings, clock=ManualClock(NOW))) as client:
        moved = await _call(
            client, "move_event", event_id="work:weekly@example.com:20260309T080000Z", calendar="home"
        )
        assert (moved["calendar"], moved["uid"], moved["reminders"]) == ("home", "weekly@example.com", [15])
        listed = await _call(client, "list_events", start="2026-03-01", end="2026-03-31")
        assert sorted((e["calendar"], e["start"][8:10]) for e in listed["events"] if e["uid"] == "weekly@example.com") == [
            ("home", "02"), ("home", "09"), ("home", "16")
        ]  # fmt: skip
        assert "weekly@example.com" not in (tmp_path / "cals" / "work.ics").read_text()
        with pytest.raises(ToolError, match="already in calendar 'home'"):
            await _call(client, "move_event", event_id="home:weekly@example.com", calendar="home")
        with pytest.raises(ToolError, match="read-only"):
            await _call(client, "move_event", event_id="home:weekly@example.com", calendar="shared")
        with pytest.raises(ToolError, match="no calendar 'nowhere'"):
            await _call(client, "move_event", event_id="home:weekly@example.com", calendar="nowhere")
        roles = {
            c["id"]: (c["access_role"], c["writable"])
            for c in (await _call(client, "list_calendars"))["calendars"]
        }
        assert roles == {"home": ("owner", True), "shared": ("reader", False), "work": ("owner", True)}
    (tmp_path / "ro").mkdir()
    async with Client(build_server(_settings(tmp_path / "ro"), clock=ManualClock(NOW))) as client:
        with pytest.raises(ToolError, match="allow-write"):
            await _call(client, "move_event", event_id="work:weekly@example.com", calendar="home")


@pytest.mark.anyio
async def test_quick_add_makes_the_event_the_line_describes_in_the_users_timezone(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path, allow_write=True), clock=ManualClock(NOW))) as client:
        lunch = await _call(
            client, "quick_add_event", text="Lunch with Dana tomorrow at 1pm at Cafe Roma", calendar="home"
        )
        assert (lunch["title"], lunch["start"], lunch["end"], lunch["location"]) == (
            "Lunch with Dana", "2026-03-03T13:00:00+01:00", "2026-03-03T14:00:00+01:00", "Cafe Roma"
        )  # fmt: skip
        offsite = await _call(client, "quick_add_event", text="Offsite on March 30 for 2 days")
        assert (offsite["start"], offsite["end"], offsite["all_day"]) == ("2026-03-30", "2026-04-01", True)
        for text, words in (("call mom", "found no day or time"), ("Review 3pm-1pm", "end"), ("", "empty"),
                            ("x" * 501, "at most 500")):  # fmt: skip
            with pytest.raises(ToolError, match=words):
                await _call(client, "quick_add_event", text=text)


@pytest.mark.anyio
async def test_google_moves_with_events_move_sets_reminders_and_honours_access_roles() -> None:
    with google_calendar_emulator() as (url, store):
        store.add_calendar("me@example.com", "Me")
        store.add_calendar("team@example.com", "Team")
        store.add_calendar("holidays@example.com", "Holidays", access_role="reader")
        provider = GoogleCalendarProvider(_service(url), ZONE, organizer="me@example.com")
        draft = EventDraft(title="Plan", start=datetime(2026, 3, 4, 10, tzinfo=ZONE), end=datetime(2026, 3, 4, 11, tzinfo=ZONE), reminders=[30])  # fmt: skip
        created = await provider.create_event(draft)
        assert created.reminders == [30]
        assert next(iter(store.events["me@example.com"].values()))["reminders"] == {
            "useDefault": False, "overrides": [{"method": "popup", "minutes": 30}]
        }  # fmt: skip
        moved = await provider.move_event(created.id, "team")
        assert (moved.calendar, moved.uid, moved.reminders) == ("team", created.uid, [30])
        window = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))
        assert [e.calendar for e in (await provider.list_events(*window, None, 10)).events] == ["team"]
        roles = {c.id: (c.access_role, c.writable) for c in await provider.list_calendars()}
        assert roles["holidays"] == ("reader", False) and roles["team"] == ("owner", True)
        with pytest.raises(WriteNotAllowedError, match="read-only"):
            await provider.move_event(moved.id, "holidays")
        with pytest.raises(WriteNotAllowedError, match="read-only"):
            await provider.create_event(draft.model_copy(update={"calendar": "holidays"}))


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_moves_a_series_between_collections_and_keeps_its_reminders(
    account: tuple[str, str],
) -> None:
    url, user = account
    caldav.DAVClient(url, username=user, password="x", timeout=10).principal().make_calendar(
        name="Home", cal_id="home"
    )
    provider = caldav_provider(url, user)
    await provider.update_event("work:weekly@example.com", EventPatch(reminders=[5, 120]))
    roles = {c.id: (c.access_role, c.writable) for c in await provider.list_calendars()}
    assert roles == {"work": ("owner", True), "home": ("owner", True)}  # Radicale: DAV:all for the owner
    moved = await provider.move_event("work:weekly@example.com", "home")
    assert (moved.calendar, moved.reminders) == ("home", [5, 120])
    fresh = caldav_provider(url, user)  # what the server holds, read by a new client
    window = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))
    assert {e.calendar for e in (await fresh.list_events(*window, None, 100)).events} == {"home"}
    assert (await fresh.get_event("home:weekly@example.com")).reminders == [5, 120]


@pytest.mark.anyio
async def test_composio_refuses_reminders_and_moves_in_words() -> None:
    from mcp_servers.calendar.composio_provider import ComposioCalendarProvider

    provider = ComposioCalendarProvider.__new__(ComposioCalendarProvider)  # the refusals come before any call
    draft = EventDraft(title="x", start=datetime(2026, 3, 4, 10, tzinfo=ZONE), end=datetime(2026, 3, 4, 11, tzinfo=ZONE), reminders=[5])  # fmt: skip
    with pytest.raises(InvalidEventError, match="cannot set reminders"):
        await provider.create_event(draft)
    with pytest.raises(InvalidEventError, match="cannot set reminders"):
        await provider.update_event(f"me:{uuid.uuid4()}", EventPatch(reminders=[]))
    with pytest.raises(InvalidEventError, match="cannot move an event"):
        await provider.move_event("me:x", "other")


@pytest.mark.parametrize(
    ("privileges", "role"),
    [
        (["read", "all"], "owner"),
        (["read", "write-content"], "writer"),
        (["read"], "reader"),
        (["C:read-free-busy"], "freeBusyReader"),
    ],
)
def test_a_caldav_calendars_role_is_read_from_the_users_privileges(privileges: list[str], role: str) -> None:
    from lxml import etree

    from mcp_servers.calendar.caldav_provider import _access_role

    body = "".join(f"<privilege><{name}/></privilege>" for name in privileges)
    element = etree.fromstring(
        f'<current-user-privilege-set xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{body}'
        "</current-user-privilege-set>"
    )

    class Collection:
        url = "http://dav.example/cal/"

        def get_properties(self, props, parse_props=True):
            return {"{DAV:}current-user-privilege-set": element}

    assert _access_role(Collection()) == role
