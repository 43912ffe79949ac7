"""The Google Calendar provider against the local API emulator built from calendar.v3.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httplib2
import pytest
from fastmcp import Client
from googleapiclient.discovery import build

from mcp_servers.calendar.errors import CalendarSourceError
from mcp_servers.calendar.google_provider import GoogleCalendarProvider
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.google_emulator import CalendarStore, google_calendar_emulator
from tests.mcp_servers.calendar.recurrence_scenario import walk_through_recurrence_changes

ZONE = ZoneInfo("Europe/Berlin")
MARCH = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))
PRIMARY = "me@example.com"


def _service(url: str):
    http = httplib2.Http(timeout=5)
    return build("calendar", "v3", http=http, static_discovery=True, client_options={"api_endpoint": url})


@pytest.fixture
def google() -> Iterator[tuple[GoogleCalendarProvider, CalendarStore]]:
    with google_calendar_emulator() as (url, store):
        store.add_calendar(PRIMARY, "Me")
        store.put(PRIMARY, {
            "id": "weekly1", "summary": "Team sync",
            "start": {"dateTime": "2026-03-02T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-02T10:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"],
            "attendees": [{"email": PRIMARY, "responseStatus": "needsAction"}, {"email": "ann@example.com", "responseStatus": "accepted"}],
            "hangoutLink": "https://meet.google.com/abc-defg-hij",
        })  # fmt: skip
        store.put(PRIMARY, {
            "id": "weekly1_20260309T090000Z", "recurringEventId": "weekly1", "iCalUID": "weekly1@google.com",
            "summary": "Team sync (moved)",
            "originalStartTime": {"dateTime": "2026-03-09T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "start": {"dateTime": "2026-03-10T15:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-10T15:30:00+01:00", "timeZone": "Europe/Berlin"},
        })  # fmt: skip
        store.put(PRIMARY, {
            "id": "weekly1_20260316T090000Z", "recurringEventId": "weekly1", "status": "cancelled",
            "originalStartTime": {"dateTime": "2026-03-16T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        })  # fmt: skip
        store.put(PRIMARY, {"id": "holiday", "summary": "Holiday", "start": {"date": "2026-03-20"}, "end": {"date": "2026-03-21"}, "transparency": "transparent"})  # fmt: skip
        yield GoogleCalendarProvider(_service(url), ZONE, organizer=PRIMARY), store


@pytest.mark.anyio
async def test_google_expands_series_with_a_moved_and_a_cancelled_occurrence(google) -> None:
    provider, _ = google
    events = (await provider.list_events(*MARCH, None, 100)).events
    assert [(e.title, e.start if e.all_day else e.start.strftime("%d %H:%M")) for e in events] == [
        ("Team sync", "02 10:00"),
        ("Team sync (moved)", "10 15:00"),
        ("Holiday", datetime(2026, 3, 20).date()),
        ("Team sync", "23 10:00"),
        ("Team sync", "30 10:00"),
    ]
    assert events[3].start.utcoffset().total_seconds() == 3600  # 23 March: still CET
    assert events[4].start.utcoffset().total_seconds() == 7200  # 30 March: CEST, same local time
    assert events[0].conference_link == "https://meet.google.com/abc-defg-hij"
    assert not events[2].busy
    assert [c.id for c in await provider.list_calendars()] == ["me"]


@pytest.mark.anyio
async def test_google_syncs_incrementally_with_the_sync_token(google) -> None:
    provider, store = google
    await provider.list_events(*MARCH, None, 100)
    store.put(PRIMARY, {"id": "new1", "summary": "Dentist", "start": {"dateTime": "2026-03-05T08:00:00Z"}, "end": {"dateTime": "2026-03-05T09:00:00Z"}})  # fmt: skip
    titles = [e.title for e in (await provider.list_events(*MARCH, None, 100)).events]
    assert "Dentist" in titles
    listings = [query for method, query in store.requests if method == "calendar.events.list"]
    assert "syncToken" not in listings[0] and all("syncToken" in query for query in listings[1:])
    fingerprints = await provider.fingerprints()
    assert set(fingerprints["me"]) == {"weekly1@google.com", "holiday@google.com", "new1@google.com"}


@pytest.mark.anyio
async def test_google_starts_over_when_the_sync_token_is_gone(google) -> None:
    provider, store = google
    await provider.list_events(*MARCH, None, 100)
    provider._sources["me"].token = "sync-999999"  # a token the server no longer knows: 410 GONE
    assert len((await provider.list_events(*MARCH, None, 100)).events) == 5
    assert provider._sources["me"].token == f"sync-{store.sequence}"


@pytest.mark.anyio
async def test_google_creates_moves_answers_and_deletes_through_the_api(google) -> None:
    provider, store = google
    draft = EventDraft(
        title="Lunch", start=datetime(2026, 3, 4, 12, tzinfo=ZONE), end=datetime(2026, 3, 4, 13, tzinfo=ZONE)
    )
    created = await provider.create_event(draft)
    assert created.title == "Lunch" and created.start == datetime(2026, 3, 4, 12, tzinfo=ZONE)
    occurrence = "me:weekly1@google.com:20260323T090000Z"
    moved = await provider.update_event(occurrence, EventPatch(start=datetime(2026, 3, 24, 9, tzinfo=ZONE)))
    assert moved.start == datetime(2026, 3, 24, 9, tzinfo=ZONE) and moved.end == datetime(
        2026, 3, 24, 9, 30, tzinfo=ZONE
    )
    answered = await provider.respond_to_invite("me:weekly1@google.com", PRIMARY, "accepted")
    assert {(a.email, a.response) for a in answered.attendees} == {
        (PRIMARY, "accepted"),
        ("ann@example.com", "accepted"),
    }
    await provider.delete_event(created.id)
    await provider.delete_event("me:weekly1@google.com:20260330T080000Z")
    titles = [(e.title, e.start.day) for e in (await provider.list_events(*MARCH, None, 100)).events]
    assert titles == [("Team sync", 2), ("Team sync (moved)", 10), ("Holiday", 20), ("Team sync", 24)]
    assert store.events[PRIMARY]["weekly1"]["attendees"][0]["responseStatus"] == "accepted"


@pytest.mark.anyio
async def test_google_reports_an_unreachable_api_clearly() -> None:
    with google_calendar_emulator() as (url, _):
        service = _service(url)
    provider = GoogleCalendarProvider(service, ZONE)
    with pytest.raises(CalendarSourceError, match="cannot reach Google Calendar"):
        await provider.list_calendars()


@pytest.mark.anyio
async def test_server_built_from_google_settings_sends_the_oauth_token(tmp_path: Path) -> None:
    token = {
        "token": "ya29.test",
        "refresh_token": "r",
        "client_id": "c",
        "client_secret": "s",
        "expiry": "2099-01-01T00:00:00Z",
    }
    (tmp_path / "token.json").write_text(json.dumps(token))
    with google_calendar_emulator() as (url, store):
        store.add_calendar(PRIMARY, "Me")
        store.put(PRIMARY, {"id": "x", "summary": "Standup", "start": {"dateTime": "2026-03-02T09:00:00Z"}, "end": {"dateTime": "2026-03-02T09:15:00Z"}})  # fmt: skip
        settings = CalendarSettings(
            google_token_file=tmp_path / "token.json",
            google_api_endpoint=url,
            state_dir=tmp_path,
            timezone="UTC",
        )
        async with Client(build_server(settings)) as client:
            listed = await client.call_tool("list_events", {"start": "2026-03-02", "end": "2026-03-03"})
    assert [e["title"] for e in listed.structured_content["events"]] == ["Standup"]
    assert store.authorizations == {"Bearer ya29.test"}


@pytest.mark.anyio
async def test_google_reports_a_failed_token_refresh_clearly(tmp_path: Path) -> None:
    token = {
        "token": "old",
        "refresh_token": "r",
        "client_id": "c",
        "client_secret": "s",
        "expiry": "2000-01-01T00:00:00Z",
    }
    (tmp_path / "token.json").write_text(json.dumps(token))
    with google_calendar_emulator() as (url, _):
        settings = CalendarSettings(
            google_token_file=tmp_path / "token.json", google_api_endpoint=url, state_dir=tmp_path
        )
        provider = GoogleCalendarProvider.from_settings(settings)
        provider._service._http.credentials._token_uri = url + "token"  # the emulator has no token endpoint
        with pytest.raises(CalendarSourceError, match="Google sign-in failed"):
            await provider.list_calendars()


@pytest.mark.anyio
async def test_google_walks_through_every_recurrence_change_with_the_api(google) -> None:
    provider, store = google
    await walk_through_recurrence_changes(provider, "me")
    series = [e for e in store.events[PRIMARY].values() if e.get("summary", "").startswith("Review")]
    rules = sorted(line for e in series for line in e.get("recurrence", []))
    assert rules == [
        "RRULE:FREQ=WEEKLY;UNTIL=20260427T085959Z;INTERVAL=2",
        "RRULE:FREQ=WEEKLY;UNTIL=20260525T125959Z;INTERVAL=2",
    ]
    instances = [e["id"] for e in series if "recurringEventId" in e]
    assert len(instances) == 2 and all("_2026" in i for i in instances)


@pytest.mark.anyio
async def test_google_find_free_slots_asks_freebusy_and_names_whom_it_could_not_read(
    google, tmp_path: Path
) -> None:
    provider, store = google
    store.events["ann@example.com"] = {}  # Ann's calendar: not in our list, visible to freebusy.query
    store.put("ann@example.com", {
        "summary": "Ann's dentist",
        "start": {"dateTime": "2026-03-03T09:00:00+01:00"}, "end": {"dateTime": "2026-03-03T12:00:00+01:00"},
    })  # fmt: skip
    settings = CalendarSettings(state_dir=tmp_path, timezone="Europe/Berlin", user_email=PRIMARY)
    async with Client(build_server(settings, provider=provider)) as client:
        arguments = {
            "duration": "PT2H",
            "window": {"start": "2026-03-03T09:00", "end": "2026-03-03T17:00"},
            "attendees": ["ann@example.com", "zed@example.com"],
        }
        found = (await client.call_tool("find_free_slots", arguments)).structured_content
    assert [(s["start"], s["end"]) for s in found["slots"]] == [
        ("2026-03-03T12:00:00+01:00", "2026-03-03T17:00:00+01:00")
    ]
    assert found["checked_attendees"] == ["ann@example.com"]
    assert found["unread_attendees"] == [
        {
            "email": "zed@example.com",
            "reason": "Google: Google does not know this calendar, or it is not shared with you",
        }
    ]
    assert "calendar.freebusy.query" in {method for method, _ in store.requests}
