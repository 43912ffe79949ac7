"""The Composio calendar provider: the real adapter and Composio's HTTP client against a local fake
endpoint whose GOOGLECALENDAR tools are played over the Google Calendar emulator's store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastmcp import Client
from pydantic import SecretStr

from mcp_servers.calendar.composio_provider import ComposioCalendarProvider, ComposioCalendarService
from mcp_servers.calendar.errors import CalendarSourceError, InvalidEventError
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from mcp_servers.common.composio_client import ComposioClient, ComposioConfig
from tests.mcp_servers.calendar.composio_calendar import composio_calendar_tools
from tests.mcp_servers.calendar.google_emulator import CalendarStore
from tests.support.composio_server import API_KEY, ComposioServer, ToolFailure, composio_server
from tests.support.processes import stdio_transport

pytestmark = pytest.mark.anyio
ZONE = ZoneInfo("Europe/Berlin")
MARCH = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))
PRIMARY = "me@example.com"


@pytest.fixture
def store() -> CalendarStore:
    store = CalendarStore()
    store.add_calendar(PRIMARY, "Me")
    store.put(PRIMARY, {
        "id": "weekly1", "summary": "Team sync",
        "start": {"dateTime": "2026-03-02T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T10:30:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"],
        "attendees": [{"email": PRIMARY, "responseStatus": "needsAction"}, {"email": "ann@example.com", "responseStatus": "accepted"}],
    })  # fmt: skip
    store.put(PRIMARY, {
        "id": "weekly1_20260316T090000Z", "recurringEventId": "weekly1", "status": "cancelled",
        "originalStartTime": {"dateTime": "2026-03-16T10:00:00+01:00", "timeZone": "Europe/Berlin"},
    })  # fmt: skip
    return store


@pytest.fixture
def composio(store: CalendarStore) -> Iterator[ComposioServer]:
    with composio_server(composio_calendar_tools(store, PRIMARY)) as server:
        yield server


def provider_for(server: ComposioServer, api_key: str = API_KEY) -> ComposioCalendarProvider:
    config = ComposioConfig(api_key=SecretStr(api_key), base_url=server.base_url, user_id="ada")
    service = ComposioCalendarService(ComposioClient(config, keep_alive=False), account=PRIMARY)
    return ComposioCalendarProvider(service, ZONE, organizer=PRIMARY)


def titles_and_starts(events) -> list[tuple[str, object]]:
    return [(e.title, e.start if e.all_day else e.start.strftime("%d %H:%M")) for e in events]


async def test_series_with_a_cancelled_occurrence_expands_through_composio(composio: ComposioServer) -> None:
    provider = provider_for(composio)
    events = (await provider.list_events(*MARCH, None, 100)).events
    assert titles_and_starts(events) == [
        ("Team sync", "02 10:00"), ("Team sync", "09 10:00"), ("Team sync", "23 10:00"), ("Team sync", "30 10:00")
    ]  # fmt: skip
    assert events[3].start.utcoffset().total_seconds() == 7200  # 30 March: CEST, same local time
    assert [(c.id, c.name) for c in await provider.list_calendars()] == [("me", "Me")]
    with composio.lock:
        assert {body["user_id"] for _, _, body in composio.calls} == {"ada"}


async def test_later_changes_arrive_through_the_sync_token(
    composio: ComposioServer, store: CalendarStore
) -> None:
    provider = provider_for(composio)
    await provider.list_events(*MARCH, None, 100)
    with store.lock:
        store.put(PRIMARY, {"id": "lunch", "summary": "Lunch", "start": {"dateTime": "2026-03-05T12:00:00Z"}, "end": {"dateTime": "2026-03-05T13:00:00Z"}})  # fmt: skip
    events = (await provider.list_events(*MARCH, None, 100)).events
    assert "Lunch" in {e.title for e in events}
    with composio.lock:
        listed = [arguments for slug, arguments, _ in composio.calls if slug == "GOOGLECALENDAR_EVENTS_LIST"]
    assert "syncToken" not in listed[0] and listed[-1]["syncToken"].startswith("sync-")


async def test_expired_sync_token_starts_over_with_a_full_listing(
    composio: ComposioServer, store: CalendarStore
) -> None:
    provider = provider_for(composio)
    await provider.list_events(*MARCH, None, 100)
    listing = composio.tools["GOOGLECALENDAR_EVENTS_LIST"]

    def expiring(arguments: dict) -> dict:
        if "syncToken" in arguments:
            raise ToolFailure(
                '<HttpError 410 returned "Sync token is no longer valid, a full sync is required.">'
            )
        return listing(arguments)

    with composio.lock:
        composio.tools["GOOGLECALENDAR_EVENTS_LIST"] = expiring
    events = (await provider.list_events(*MARCH, None, 100)).events
    assert len(events) == 4


async def test_create_timed_all_day_and_long_events_then_update_and_delete(
    composio: ComposioServer, store: CalendarStore
) -> None:
    provider = provider_for(composio)
    timed = await provider.create_event(EventDraft(title="Review", start=datetime(2026, 3, 4, 14, 0, tzinfo=ZONE), end=datetime(2026, 3, 4, 15, 45, tzinfo=ZONE), location="Room 2"))  # fmt: skip
    assert (timed.start.hour, timed.end.hour, timed.end.minute, timed.location) == (14, 15, 45, "Room 2")
    day = await provider.create_event(
        EventDraft(title="Offsite", start=date(2026, 3, 6), end=date(2026, 3, 7))
    )
    assert day.all_day and day.start == date(2026, 3, 6)
    trip = await provider.create_event(EventDraft(title="Trip", start=datetime(2026, 3, 10, 8, 0, tzinfo=ZONE), end=datetime(2026, 3, 12, 18, 0, tzinfo=ZONE)))  # fmt: skip
    assert trip.end - trip.start == datetime(2026, 3, 12, 18) - datetime(2026, 3, 10, 8)
    moved = await provider.update_event(timed.id, EventPatch(title="Review (moved)", start=datetime(2026, 3, 5, 9, 0, tzinfo=ZONE)))  # fmt: skip
    assert (moved.title, moved.start.day, moved.start.hour, moved.end.hour, moved.end.minute) == ("Review (moved)", 5, 9, 10, 45)  # fmt: skip
    await provider.delete_event(day.id)
    titles = {e.title for e in (await provider.list_events(*MARCH, None, 100)).events}
    assert {"Review (moved)", "Trip"} <= titles and "Offsite" not in titles
    slugs = composio.slugs_called()
    assert slugs.count("GOOGLECALENDAR_CREATE_EVENT") == 3 and "GOOGLECALENDAR_DELETE_EVENT" in slugs


async def test_answering_an_invitation_uses_the_connected_accounts_rsvp(
    composio: ComposioServer, store: CalendarStore
) -> None:
    provider = provider_for(composio)
    event = await provider.respond_to_invite("me:weekly1@google.com", PRIMARY, "accepted")
    assert {a.email: a.response for a in event.attendees} == {
        PRIMARY: "accepted",
        "ann@example.com": "accepted",
    }
    with composio.lock:
        patch = [arguments for slug, arguments, _ in composio.calls if slug == "GOOGLECALENDAR_PATCH_EVENT"]
    assert patch[-1]["rsvp_response"] == "accepted" and "attendees" not in patch[-1]
    with pytest.raises(InvalidEventError, match="only for the connected account.*not ann@example.com"):
        await provider.respond_to_invite("me:weekly1@google.com", "ann@example.com", "declined")


async def test_this_and_following_is_refused_before_anything_is_written(composio: ComposioServer) -> None:
    provider = provider_for(composio)
    with pytest.raises(InvalidEventError, match="cannot change a recurrence rule.*'this and following'"):
        await provider.update_event(
            "me:weekly1@google.com:20260309T090000Z", EventPatch(title="Later"), "following"
        )
    with pytest.raises(InvalidEventError, match="cannot change a recurrence rule"):
        await provider.update_event("me:weekly1@google.com", EventPatch(recurrence="FREQ=DAILY;COUNT=3"))
    writes = {"GOOGLECALENDAR_CREATE_EVENT", "GOOGLECALENDAR_PATCH_EVENT"}
    assert not writes & set(composio.slugs_called())


async def test_changing_a_recurrence_rule_names_the_missing_capability(composio: ComposioServer) -> None:
    service = provider_for(composio)._service  # the service the provider drives
    request = service.events().patch(calendarId=PRIMARY, eventId="weekly1", body={"recurrence": ["RRULE:FREQ=DAILY"]})  # fmt: skip
    with pytest.raises(
        CalendarSourceError, match="GOOGLECALENDAR_PATCH_EVENT cannot change a recurrence rule"
    ):
        request.execute()


async def test_rejected_api_key_is_a_clear_error(composio: ComposioServer) -> None:
    with pytest.raises(CalendarSourceError, match="Composio refused the API key \\(401\\).*COMPOSIO_API_KEY"):
        await provider_for(composio, api_key="wrong").list_calendars()


async def test_server_error_and_dropped_server_are_reported_then_recovered(composio: ComposioServer) -> None:
    provider = provider_for(composio)
    composio.fail_next(503)
    with pytest.raises(CalendarSourceError, match="Composio failed on its side \\(503\\)"):
        await provider.list_calendars()
    composio.stop()
    with pytest.raises(CalendarSourceError, match="cannot reach Composio"):
        await provider.list_calendars()
    composio.start()
    assert len((await provider.list_events(*MARCH, None, 100)).events) == 4


async def test_mcp_server_built_from_composio_settings_lists_and_creates(
    composio: ComposioServer, tmp_path: Path
) -> None:
    settings = CalendarSettings(composio_api_key=API_KEY, composio_base_url=composio.base_url,
                                composio_user_id="ada", state_dir=tmp_path, timezone="Europe/Berlin",
                                user_email=PRIMARY, allow_write=True)  # fmt: skip
    async with Client(build_server(settings)) as client:
        calendars = (await client.call_tool("list_calendars", {})).structured_content["calendars"]
        draft = {"title": "Dentist", "start": "2026-03-03T08:30:00", "end": "2026-03-03T09:00:00"}
        created = (await client.call_tool("create_event", {"draft": draft})).structured_content
        listed = await client.call_tool("list_events", {"start": "2026-03-02", "end": "2026-03-04"})
    assert [c["source"] for c in calendars] == [f"google:{PRIMARY}"]
    assert created["title"] == "Dentist" and created["start"].startswith("2026-03-03T08:30:00+01:00")
    assert [e["title"] for e in listed.structured_content["events"]] == ["Team sync", "Dentist"]


@pytest.mark.slow
async def test_main_over_stdio_picks_composio_from_the_standard_environment_variables(
    composio: ComposioServer, tmp_path: Path
) -> None:
    env = {"COMPOSIO_API_KEY": API_KEY, "COMPOSIO_BASE_URL": composio.base_url, "COMPOSIO_USER_ID": "ada",
           "PEPPER_CALENDAR_STATE_DIR": str(tmp_path)}  # fmt: skip
    transport = stdio_transport("mcp_servers.calendar", ["--timezone", "Europe/Berlin"], env)
    async with Client(transport) as client:
        listed = await client.call_tool("list_events", {"start": "2026-03-02", "end": "2026-03-03"})
    assert [e["title"] for e in listed.structured_content["events"]] == ["Team sync"]


async def test_attendees_free_busy_comes_from_the_free_busy_tool(
    composio: ComposioServer, store: CalendarStore
) -> None:
    with store.lock:
        store.add_calendar("ann@example.com", "Ann")
        store.put("ann@example.com", {"id": "a1", "summary": "Busy", "start": {"dateTime": "2026-03-03T09:00:00Z"}, "end": {"dateTime": "2026-03-03T10:00:00Z"}})  # fmt: skip
    provider = provider_for(composio)
    found = await provider.attendee_busy(["ann@example.com", "bob@example.com"], *MARCH)
    assert [(s.hour, e.hour) for s, e in found.busy["ann@example.com"]] == [(9, 10)]
    assert "bob@example.com" in found.unread and "not" in found.unread["bob@example.com"].lower()
    assert "GOOGLECALENDAR_FREE_BUSY_QUERY" in composio.slugs_called()
