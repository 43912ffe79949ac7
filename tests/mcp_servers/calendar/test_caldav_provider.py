"""The CalDAV provider against a real Radicale server on loopback, and against servers that misbehave."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import caldav
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.calendar.caldav_provider import CaldavProvider
from mcp_servers.calendar.errors import CalendarSourceError
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.radicale import calendar_of_new_user, running_radicale
from tests.mcp_servers.calendar.recurrence_scenario import expansion, walk_through_recurrence_changes

ZONE = ZoneInfo("Europe/Berlin")
MARCH = (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))

SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly@example.com
DTSTART;TZID=Europe/Berlin:20260302T100000
DTEND;TZID=Europe/Berlin:20260302T110000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Weekly review
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_radicale(tmp_path_factory.mktemp("radicale")) as url:
        yield url


@pytest.fixture
def account(radicale: str) -> tuple[str, str]:
    """A fresh user with one calendar `work` holding a weekly series."""
    user, _ = calendar_of_new_user(radicale, SERIES)
    return radicale, user


def _provider(url: str, user: str, **extra: object) -> CaldavProvider:
    return CaldavProvider(url, user, "x", ZONE, organizer=f"{user}@example.com", timeout=5, **extra)


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_lists_calendars_and_expands_a_series(account: tuple[str, str]) -> None:
    provider = _provider(*account)
    calendars = await provider.list_calendars()
    assert [(c.id, c.name, c.error) for c in calendars] == [("work", "Work", None)]
    events = (await provider.list_events(*MARCH, None, 100)).events
    assert [e.start.day for e in events] == [2, 9, 16]
    assert events[1].id == "work:weekly@example.com:20260309T090000Z"


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_creates_moves_answers_and_deletes_on_the_server(account: tuple[str, str]) -> None:
    url, user = account
    provider = _provider(url, user)
    draft = EventDraft(
        title="Lunch", start=datetime(2026, 3, 4, 12, tzinfo=ZONE), end=datetime(2026, 3, 4, 13, tzinfo=ZONE)
    )
    created = await provider.create_event(draft)
    moved = await provider.update_event(
        "work:weekly@example.com:20260309T090000Z", EventPatch(start=datetime(2026, 3, 10, 15, tzinfo=ZONE))
    )
    assert moved.start == datetime(2026, 3, 10, 15, tzinfo=ZONE)
    answered = await provider.respond_to_invite("work:weekly@example.com", "me@example.com", "declined")
    assert answered.attendees[0].response == "declined"
    await provider.delete_event(created.id)
    fresh = _provider(url, user)  # what the server holds, read by a new client
    events = (await fresh.list_events(*MARCH, None, 100)).events
    assert [(e.title, e.start.day) for e in events] == [
        ("Weekly review", 2),
        ("Weekly review", 10),
        ("Weekly review", 16),
    ]


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_sees_changes_made_by_another_client(account: tuple[str, str]) -> None:
    url, user = account
    provider = _provider(url, user, poll_seconds=0.2)
    assert len((await provider.list_events(*MARCH, None, 100)).events) == 3
    before = await provider.fingerprints()
    other = caldav.DAVClient(url, username=user, password="x", timeout=10).principal().calendar(cal_id="work")
    await anyio.to_thread.run_sync(
        other.add_event, SERIES.replace("weekly@", "other@").replace("COUNT=3", "COUNT=1")
    )
    changed = anyio.Event()

    async def on_change() -> None:
        changed.set()

    async with anyio.create_task_group() as group:
        group.start_soon(provider.watch, on_change)
        with anyio.fail_after(10):
            await changed.wait()
        group.cancel_scope.cancel()
    assert len((await provider.list_events(*MARCH, None, 100)).events) == 4
    assert set((await provider.fingerprints())["work"]) - set(before["work"]) == {"other@example.com"}


class _Misbehaving(BaseHTTPRequestHandler):
    mode = "401"
    released = threading.Event()

    def _answer(self) -> None:
        if self.mode == "401":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.mode == "500":
            body = b"internal error"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.mode == "drop":
            self.close_connection = True
            self.connection.close()
        else:  # hang: read the request, never answer (until the test ends)
            self.released.wait(30)

    do_PROPFIND = do_REPORT = do_GET = do_OPTIONS = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def misbehaving() -> Iterator[type[_Misbehaving]]:
    handler = type("Handler", (_Misbehaving,), {"released": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield handler
    finally:
        handler.released.set()
        server.shutdown()
        server.server_close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("401", "refused the credentials"),
        ("500", "answered with an error"),
        ("drop", "cannot reach the CalDAV server"),
        ("hang", "cannot reach the CalDAV server|did not answer"),
    ],
)
async def test_caldav_reports_a_misbehaving_server_clearly_and_in_time(
    misbehaving, mode: str, message: str
) -> None:
    misbehaving.mode = mode
    provider = CaldavProvider(misbehaving.url, "me", "wrong", ZONE, timeout=1)
    with anyio.fail_after(30), pytest.raises(CalendarSourceError, match=message) as raised:
        await provider.list_events(*MARCH, None, 10)
    assert misbehaving.url in str(raised.value)


@pytest.mark.slow
@pytest.mark.anyio
async def test_server_built_from_caldav_settings_serves_the_account(
    account: tuple[str, str], tmp_path: Path
) -> None:
    url, user = account
    settings = CalendarSettings(
        caldav_url=url,
        caldav_username=user,
        caldav_password="x",
        timezone="Europe/Berlin",
        state_dir=tmp_path,
    )
    async with Client(build_server(settings)) as client:
        listed = await client.call_tool("list_events", {"start": "2026-03-01", "end": "2026-04-01"})
    assert [e["title"] for e in listed.structured_content["events"]] == ["Weekly review"] * 3


@pytest.mark.anyio
async def test_server_turns_a_caldav_failure_into_a_tool_error(misbehaving, tmp_path: Path) -> None:
    misbehaving.mode = "401"
    settings = CalendarSettings(
        caldav_url=misbehaving.url, caldav_username="me", caldav_password="no", state_dir=tmp_path
    )
    async with Client(build_server(settings)) as client:
        with pytest.raises(ToolError, match="refused the credentials"):
            await client.call_tool("list_calendars", {})


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_walks_through_every_recurrence_change_on_the_server(account: tuple[str, str]) -> None:
    url, user = account
    provider = _provider(url, user)
    await walk_through_recurrence_changes(provider, "work")
    fresh = _provider(url, user)  # what the server holds, read by a new client
    assert await expansion(fresh, "Review") == await expansion(provider, "Review")
    collection = (
        caldav.DAVClient(url, username=user, password="x", timeout=10).principal().calendar(cal_id="work")
    )
    objects = await anyio.to_thread.run_sync(collection.events)
    assert len(objects) == 3  # the weekly fixture, the series, and the series split off it


@pytest.mark.slow
@pytest.mark.anyio
async def test_caldav_stores_the_sequence_an_edit_sets_and_an_answer_leaves_it(
    account: tuple[str, str],
) -> None:
    url, user = account
    provider = _provider(url, user)
    start = datetime(2026, 3, 4, 12, tzinfo=ZONE)
    created = await provider.create_event(EventDraft(title="Lunch", start=start, end=start.replace(hour=13)))
    await provider.update_event(created.id, EventPatch(title="Long lunch"))
    await provider.respond_to_invite("work:weekly@example.com", "me@example.com", "accepted")
    other = caldav.DAVClient(url, username=user, password="x", timeout=10).principal().calendar(cal_id="work")
    stored = {
        str(event.icalendar_component["UID"]): int(event.icalendar_component.get("SEQUENCE", 0))
        for event in await anyio.to_thread.run_sync(other.events)
    }
    assert stored == {created.uid: 1, "weekly@example.com": 0}
