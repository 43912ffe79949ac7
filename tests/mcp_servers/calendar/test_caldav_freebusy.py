"""Attendee free/busy over CalDAV: free-busy-query REPORTs on a real Radicale with several users."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import caldav
import pytest
from fastmcp import Client

from mcp_servers.calendar.caldav_freebusy import busy_periods, freebusy_url
from mcp_servers.calendar.caldav_provider import CaldavProvider
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.test_caldav_provider import ZONE
from tests.support.processes import free_port, stop, wait_for_port

# Everyone reads the list of anyone's calendars and their free/busy, not their events; the
# hermit shares nothing.
RIGHTS = """
[root]
user: .+
collection:
permissions: R

[own-home]
user: .+
collection: {user}
permissions: RW

[own-calendars]
user: .+
collection: {user}/[^/]+
permissions: rw

[hermit]
user: .+
collection: hermit(/.*)?
permissions:

[others-homes]
user: .+
collection: [^/]+
permissions: R

[others-free-busy]
user: .+
collection: [^/]+/[^/]+
permissions: f
"""

BUSY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:{start}
DTEND;TZID=Europe/Berlin:{end}
SUMMARY:Private matter
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def shared_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("radicale-shared")
    (folder / "rights").write_text(RIGHTS)
    port = free_port()
    command = [
        sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
        "--rights-type", "from_file", "--rights-file", str(folder / "rights"),
        "--storage-filesystem-folder", str(folder / "storage"), "--auth-delay", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        url = f"http://127.0.0.1:{port}/"
        for user, start, end in (("alice", None, None), ("bob", "20260303T100000", "20260303T113000"),
                                 ("hermit", "20260303T140000", "20260303T150000")):  # fmt: skip
            calendar = (
                caldav.DAVClient(url, username=user, password="x")
                .principal()
                .make_calendar(name="Work", cal_id="work")
            )
            if start:
                calendar.add_event(BUSY.format(uid=f"{user}-busy@example.com", start=start, end=end))
        yield url
    finally:
        stop(process)


def _alice(url: str, **extra: object) -> CaldavProvider:
    return CaldavProvider(url, "alice", "x", ZONE, organizer="alice@example.com", timeout=5, **extra)


@pytest.mark.slow
@pytest.mark.anyio
async def test_attendee_busy_reads_a_colleague_and_names_those_it_cannot_read(shared_radicale: str) -> None:
    provider = _alice(shared_radicale, freebusy_url=shared_radicale + "{local}/")
    day = (datetime(2026, 3, 3, tzinfo=ZONE), datetime(2026, 3, 4, tzinfo=ZONE))
    found = await provider.attendee_busy(
        ["bob@example.com", "hermit@example.com", "nobody@example.com"], *day
    )
    assert found.busy == {
        "bob@example.com": [(datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 3, 10, 30, tzinfo=UTC))]
    }
    assert "does not let you read" in found.unread["hermit@example.com"]
    assert "no calendar" in found.unread["nobody@example.com"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_find_free_slots_avoids_a_colleagues_busy_time_read_from_the_server(
    shared_radicale: str, tmp_path: Path
) -> None:
    provider = _alice(shared_radicale, freebusy_url=shared_radicale + "{local}/work/")
    settings = CalendarSettings(state_dir=tmp_path, timezone="Europe/Berlin", user_email="alice@example.com")
    async with Client(build_server(settings, provider=provider)) as client:
        arguments = {
            "duration": "PT1H",
            "window": {"start": "2026-03-03T09:00", "end": "2026-03-03T17:00"},
            "attendees": ["bob@example.com", "hermit@example.com"],
        }
        found = (await client.call_tool("find_free_slots", arguments)).structured_content
    local = [
        [datetime.fromisoformat(s[k]).astimezone(ZONE).strftime("%H:%M") for k in ("start", "end")]
        for s in found["slots"]
    ]
    assert local == [["09:00", "10:00"], ["11:30", "17:00"]]  # Bob is busy 10:00 to 11:30
    assert found["checked_attendees"] == ["bob@example.com"]
    assert [u["email"] for u in found["unread_attendees"]] == ["hermit@example.com"]


@pytest.mark.anyio
async def test_attendee_busy_without_a_url_template_reports_every_attendee_unread(
    shared_radicale: str,
) -> None:
    found = await _alice(shared_radicale).attendee_busy(
        ["bob@example.com"], datetime.now(UTC), datetime.now(UTC)
    )
    assert found.busy == {} and "PEPPER_CALENDAR_CALDAV_FREEBUSY_URL" in found.unread["bob@example.com"]


def test_busy_periods_skips_free_time_and_reads_durations() -> None:
    answer = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VFREEBUSY\r\n"
        "FREEBUSY;FBTYPE=FREE:20260303T080000Z/20260303T090000Z\r\n"
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260303T100000Z/PT30M,20260303T120000Z/20260303T130000Z\r\n"
        "END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    )
    assert busy_periods(answer) == [
        (datetime(2026, 3, 3, 10, tzinfo=UTC), datetime(2026, 3, 3, 10, 30, tzinfo=UTC)),
        (datetime(2026, 3, 3, 12, tzinfo=UTC), datetime(2026, 3, 3, 13, tzinfo=UTC)),
    ]


def test_freebusy_url_fills_in_the_address_parts() -> None:
    template = "https://dav.example.com/{domain}/{local}/?who={email}"
    assert (
        freebusy_url(template, "ann@example.com")
        == "https://dav.example.com/example.com/ann/?who=ann@example.com"
    )
