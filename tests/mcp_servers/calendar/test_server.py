"""The MCP surface in memory: tools, write flags, change cursor, resources, subscriptions in both eras."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest
from fastmcp import Client
from fastmcp.client.messages import MessageHandler
from fastmcp.exceptions import ToolError
from mcp.client.subscriptions import listen

from mcp_servers.calendar.server import UPCOMING_URI, build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.fakes import ManualClock

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)

INVITE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:planning@example.com
DTSTART;TZID=Europe/Berlin:20260302T140000
DTEND;TZID=Europe/Berlin:20260302T150000
SUMMARY:Quarterly planning
DESCRIPTION:Budget and hiring
ORGANIZER:mailto:boss@example.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com
END:VEVENT
END:VCALENDAR
"""


def _settings(tmp_path: Path, **extra: object) -> CalendarSettings:
    (tmp_path / "cals").mkdir(exist_ok=True)
    (tmp_path / "cals" / "work.ics").write_text(INVITE.replace("\n", "\r\n"))
    values = {
        "ics": [tmp_path / "cals"],
        "timezone": "Europe/Berlin",
        "state_dir": tmp_path / "state",
        "user_email": "me@example.com",
        "poll_seconds": 3600,
        **extra,
    }
    return CalendarSettings(**values)


class Updates(MessageHandler):
    def __init__(self) -> None:
        self.count = 0
        self.arrived = anyio.Event()

    async def on_resource_updated(self, message) -> None:
        self.count += 1
        self.arrived.set()


async def _call(client: Client, tool: str, **arguments: object) -> dict:
    return (await client.call_tool(tool, arguments)).structured_content


@pytest.mark.anyio
async def test_server_reads_lists_searches_and_gets_events(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path), clock=ManualClock(NOW))) as client:
        listed = await _call(client, "list_events", start="2026-03-02", end="2026-03-03")
        assert [e["title"] for e in listed["events"]] == ["Quarterly planning"]
        assert listed["events"][0]["start"] == "2026-03-02T14:00:00+01:00"
        found = await _call(client, "search_events", text="budget")
        assert [e["id"] for e in found["events"]] == ["work:planning@example.com"]
        assert (await _call(client, "search_events", text="holiday"))["events"] == []
        event = await _call(client, "get_event", event_id="work:planning@example.com")
        assert event["organizer"]["email"] == "boss@example.com"
        soon = await _call(client, "upcoming", within="PT8H")
        assert len(soon["events"]) == 1
        assert (await _call(client, "upcoming", within="PT2H"))["events"] == []
        calendars = await _call(client, "list_calendars")
        assert [c["id"] for c in calendars["calendars"]] == ["work"]
        resource = await client.read_resource("calendar://event/work:planning@example.com")
        assert "Quarterly planning" in resource[0].text


@pytest.mark.anyio
async def test_server_explains_bad_requests(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path, allow_write=True), clock=ManualClock(NOW))) as client:
        with pytest.raises(ToolError, match="end must be after start"):
            await client.call_tool("list_events", {"start": "2026-03-03", "end": "2026-03-02"})
        with pytest.raises(ToolError, match="not an event id"):
            await client.call_tool("get_event", {"event_id": "nonsense"})
        with pytest.raises(ToolError, match="no calendar nope"):
            await client.call_tool(
                "list_events", {"start": "2026-03-02", "end": "2026-03-03", "calendars": ["nope"]}
            )
        draft = {"title": "Oops", "start": "2026-03-02T12:00", "end": "2026-03-02T11:00"}
        with pytest.raises(ToolError, match="before it starts"):
            await client.call_tool("create_event", {"draft": draft})


@pytest.mark.anyio
async def test_server_writes_own_events_with_allow_write_but_nothing_others_hear_of(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path, allow_write=True), clock=ManualClock(NOW))) as client:
        draft = {"title": "Sync", "start": "2026-03-03T10:00", "end": "2026-03-03T10:30"}
        with pytest.raises(ToolError, match="--allow-send"):
            await client.call_tool("create_event", {"draft": {**draft, "attendees": ["ann@example.com"]}})
        with pytest.raises(ToolError, match="--allow-send"):
            await client.call_tool("delete_event", {"event_id": "work:planning@example.com"})
        with pytest.raises(ToolError, match="--allow-send"):
            await client.call_tool(
                "update_event", {"event_id": "work:planning@example.com", "changes": {"title": "x"}}
            )
        with pytest.raises(ToolError, match="--allow-send"):
            await _call(
                client, "respond_to_invite", event_id="work:planning@example.com", response="accepted"
            )
        created = await _call(client, "create_event", draft=draft)  # only the user: no one is invited
        assert created["title"] == "Sync"
        assert (await _call(client, "delete_event", event_id=created["id"]))["deleted"] == created["id"]


@pytest.mark.anyio
async def test_server_invites_answers_and_deletes_with_allow_send(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allow_send=True)
    async with Client(build_server(settings, clock=ManualClock(NOW))) as client:
        draft = {
            "title": "Sync",
            "start": "2026-03-03T10:00",
            "end": "2026-03-03T10:30",
            "attendees": ["ann@example.com"],
        }
        created = await _call(client, "create_event", draft=draft)
        assert [a["email"] for a in created["attendees"]] == ["ann@example.com"]
        assert created["organizer"]["email"] == "me@example.com"
        assert (await _call(client, "delete_event", event_id=created["id"]))["deleted"] == created["id"]
        with pytest.raises(ToolError, match="no event"):
            await client.call_tool("get_event", {"event_id": created["id"]})
        answered = await _call(
            client, "respond_to_invite", event_id="work:planning@example.com", response="accepted"
        )
        assert answered["attendees"][0]["response"] == "accepted"


@pytest.mark.anyio
async def test_server_list_changes_cursor_skips_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with Client(build_server(settings, clock=ManualClock(NOW))) as client:
        first = await _call(client, "list_changes")
        assert [(c["op"], c["event_id"]) for c in first["changes"]] == [
            ("created", "work:planning@example.com")
        ]
        assert (await _call(client, "list_changes", since=first["cursor"]))["changes"] == []
        (tmp_path / "cals" / "work.ics").write_text(
            INVITE.replace("Quarterly", "Annual").replace("\n", "\r\n")
        )
        second = await _call(client, "list_changes", since=first["cursor"])
        assert [(c["op"], c["title"]) for c in second["changes"]] == [("updated", "Annual planning")]
    async with Client(build_server(settings, clock=ManualClock(NOW))) as client:  # a restart
        assert (await _call(client, "list_changes", since=second["cursor"]))["changes"] == []
        with pytest.raises(ToolError, match="start over"):
            await client.call_tool("list_changes", {"since": "12345"})


@pytest.mark.anyio
async def test_server_finds_free_slots_around_the_users_events(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path), clock=ManualClock(NOW))) as client:
        window = {"start": "2026-03-02", "end": "2026-03-03"}
        result = await _call(client, "find_free_slots", duration="PT1H", window=window)
    assert [(s["start"][11:16], s["end"][11:16]) for s in result["slots"]] == [
        ("09:00", "14:00"),
        ("15:00", "17:00"),
    ]


@pytest.mark.anyio
async def test_server_upcoming_notifies_legacy_subscribers_when_a_file_changes(tmp_path: Path) -> None:
    updates = Updates()
    server = build_server(_settings(tmp_path), clock=ManualClock(NOW))
    async with Client(server, mode="legacy", message_handler=updates) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.session.subscribe_resource(UPCOMING_URI)
        with anyio.fail_after(20):
            while "Moved" not in (await client.read_resource(UPCOMING_URI))[0].text:
                updates.arrived = anyio.Event()
                (tmp_path / "cals" / "work.ics").write_text(
                    INVITE.replace("Quarterly", "Moved").replace("\n", "\r\n")
                )
                with anyio.move_on_after(2):
                    await updates.arrived.wait()
        assert updates.count >= 1


@pytest.mark.anyio
async def test_server_upcoming_notifies_listeners_at_the_lead_time(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    server = build_server(_settings(tmp_path, lead_times_minutes=[120, 30]), clock=clock)
    async with Client(server) as client:
        async with listen(client.session, resource_subscriptions=[UPCOMING_URI]) as stream:
            clock.advance(timedelta(hours=4, minutes=5))  # 12:05: two hours before 14:00 passed
            with anyio.fail_after(10):
                async for update in stream:
                    assert update.uri == UPCOMING_URI
                    view = (await client.read_resource(UPCOMING_URI))[0].text
                    if '"lead_minutes":120' in view:
                        break


@pytest.mark.anyio
async def test_server_update_event_changes_a_rule_and_splits_a_series_by_scope(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path, allow_write=True), clock=ManualClock(NOW))) as client:
        draft = {"title": "1:1", "start": "2026-03-03T10:00", "end": "2026-03-03T10:30",
                 "recurrence": "RRULE:FREQ=WEEKLY;COUNT=4"}  # fmt: skip
        series = (await _call(client, "create_event", draft=draft))["id"]
        changes = {"recurrence": "FREQ=WEEKLY;INTERVAL=2;COUNT=3"}
        await _call(client, "update_event", event_id=series, changes=changes)
        third = f"{series}:20260331T080000Z"
        split = await _call(
            client, "update_event", event_id=third, changes={"title": "1:1 (new room)"}, scope="following"
        )
        listed = await _call(client, "list_events", start="2026-03-01", end="2026-05-01")
        titles = [(e["start"][:10], e["title"]) for e in listed["events"] if e["title"].startswith("1:1")]
        assert titles == [("2026-03-03", "1:1"), ("2026-03-17", "1:1"), ("2026-03-31", "1:1 (new room)")]
        assert split["uid"] != (await _call(client, "get_event", event_id=series))["uid"]
        with pytest.raises(ToolError, match="not a valid RRULE"):
            await client.call_tool(
                "update_event", {"event_id": series, "changes": {"recurrence": "FREQ=FORTNIGHTLY"}}
            )
        await _call(client, "update_event", event_id=f"{series}:20260317T090000Z", changes={"cancel": True})
        listed = await _call(client, "list_events", start="2026-03-01", end="2026-05-01")
        assert [e["start"][:10] for e in listed["events"] if e["title"] == "1:1"] == ["2026-03-03"]


@pytest.mark.anyio
async def test_server_find_free_slots_reports_attendees_an_ics_calendar_cannot_read(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path), clock=ManualClock(NOW))) as client:
        arguments = {
            "duration": "PT1H",
            "window": {"start": "2026-03-02T09:00", "end": "2026-03-02T17:00"},
            "attendees": ["boss@example.com", "me@example.com"],
        }
        found = await _call(client, "find_free_slots", **arguments)
    assert [(s["start"][11:16], s["end"][11:16]) for s in found["slots"]] == [
        ("09:00", "14:00"),
        ("15:00", "17:00"),
    ]
    assert found["checked_attendees"] == []
    assert [u["email"] for u in found["unread_attendees"]] == ["boss@example.com"]  # not the user
    assert "only the events in your calendars" in found["unread_attendees"][0]["reason"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        ({"attendees": ["not an address"]}, "attendees: 'not an address' is not an e-mail address"),
        ({"attendees": ["ann@example.com", ""]}, "attendees: '' is not an e-mail address"),
        ({"attendees": ["Ann <ann@example.com>"]}, "give the bare address ann@example.com"),
        ({"attendees": ["ann@example.com\r\nBcc: eve@evil.example"]}, "attendees contains a line break"),
        ({"title": "Sync\r\nBcc: eve@evil.example"}, "title contains a line break"),
    ],
)
async def test_server_refuses_bad_attendees_and_a_title_with_a_line_break(
    tmp_path: Path, draft: dict, problem: str
) -> None:
    settings = _settings(tmp_path, allow_send=True)
    before = (tmp_path / "cals" / "work.ics").read_bytes()
    async with Client(build_server(settings, clock=ManualClock(NOW))) as client:
        event = {"title": "Sync", "start": "2026-03-03T10:00", "end": "2026-03-03T10:30", **draft}
        with pytest.raises(ToolError, match=problem):
            await client.call_tool("create_event", {"draft": event})
        with pytest.raises(ToolError, match=problem):
            changes = {key: value for key, value in draft.items() if key in ("title", "attendees")}
            await client.call_tool(
                "update_event", {"event_id": "work:planning@example.com", "changes": changes}
            )
    assert (tmp_path / "cals" / "work.ics").read_bytes() == before


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("list_events", {"start": "0001-01-01", "end": "0001-01-05"}),
        ("list_events", {"start": "9999-12-30", "end": "9999-12-31"}),
        ("search_events", {"text": "sync", "start": "0001-01-01T00:00"}),
        ("find_free_slots", {"duration": "PT30M", "window": {"start": "0001-01-01", "end": "0001-01-03"}}),
        (
            "create_event",
            {"draft": {"title": "Sync", "start": "9999-12-31T09:00", "end": "9999-12-31T10:00"}},
        ),
        ("update_event", {"event_id": "work:planning@example.com", "changes": {"start": "0001-01-01T09:00"}}),
    ],
)
async def test_server_refuses_times_at_the_edge_of_the_calendar_in_words(
    tmp_path: Path, tool: str, arguments: dict
) -> None:
    async with Client(build_server(_settings(tmp_path, allow_send=True), clock=ManualClock(NOW))) as client:
        before = (tmp_path / "cals" / "work.ics").read_bytes()
        with pytest.raises(ToolError, match="at the edge of the calendar: give a year from 2 to 9998"):
            await client.call_tool(tool, arguments)
    assert (tmp_path / "cals" / "work.ics").read_bytes() == before


@pytest.mark.anyio
async def test_an_event_lasting_millennia_does_not_stop_reads_of_the_calendar(tmp_path: Path) -> None:
    async with Client(build_server(_settings(tmp_path, allow_send=True), clock=ManualClock(NOW))) as client:
        draft = {"title": "Forever", "start": "2026-03-10T19:56:37+14:00", "end": "4101-04-28T20:19:01+14:00"}
        await client.call_tool("create_event", {"draft": draft})
        listed = await client.call_tool("list_events", {"start": "2026-03-01", "end": "2026-03-12"})
        upcoming = await client.call_tool("upcoming", {"within": "P1D"})
    assert "Quarterly planning" in [e["title"] for e in listed.structured_content["events"]]
    assert [e["title"] for e in upcoming.structured_content["events"]] == ["Quarterly planning"]
