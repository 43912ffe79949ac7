"""The four Pepper servers built in memory on real temporary data, for tests that cover every server.

Gmail serves a real Maildir holding one message from Bob; the calendar serves a real .ics with one of
the user's own events (nobody else on it) and one invitation from their boss; the context store and
notify servers get fresh SQLite files. The clock is pinned, so the tests pass on any day.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastmcp import FastMCP

from mcp_servers.calendar.server import build_server as build_calendar
from mcp_servers.calendar.settings import CalendarSettings
from mcp_servers.common.surface import PepperServer
from mcp_servers.context_store.server import build_server as build_context_store
from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.server import build_server as build_gmail
from mcp_servers.gmail.settings import GmailSettings
from mcp_servers.notify.clock import ManualClock as NotifyClock
from mcp_servers.notify.server import build_server as build_notify
from mcp_servers.notify.settings import NotifySettings
from tests.mcp_servers.calendar.fakes import ManualClock
from tests.mcp_servers.gmail.maildirs import deliver
from tests.mcp_servers.gmail.messages import plain_message

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZONE)
ME = "me@example.com"
OWN_EVENT = "work:focus@example.com"
INVITATION = "work:planning@example.com"

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:focus@example.com
DTSTART;TZID=Europe/Berlin:20260303T090000
DTEND;TZID=Europe/Berlin:20260303T100000
SUMMARY:Focus time
END:VEVENT
BEGIN:VEVENT
UID:planning@example.com
DTSTART;TZID=Europe/Berlin:20260302T140000
DTEND;TZID=Europe/Berlin:20260302T150000
SUMMARY:Quarterly planning
ORGANIZER:mailto:boss@example.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com
END:VEVENT
END:VCALENDAR
"""


def gmail(tmp_path: Path, **flags: bool) -> tuple[FastMCP, MaildirProvider, str]:
    """The gmail server on a Maildir with one message from Bob; returns the server, provider, message id."""
    key = deliver(tmp_path / "Mail", plain_message(subject="Budget"))
    settings = GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "gmail-state",
                             files_dir=tmp_path / "files", from_address=ME, **flags)  # fmt: skip
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "gmail-state")
    return build_gmail(settings, provider), provider, key


def calendar(tmp_path: Path, **flags: bool) -> FastMCP:
    """The calendar server on one .ics file (`calendar_file`) with an own event and an invitation."""
    calendar_file(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    calendar_file(tmp_path).write_text(CALENDAR.replace("\n", "\r\n"))
    settings = CalendarSettings(
        ics=[calendar_file(tmp_path).parent],
        timezone="Europe/Berlin",
        state_dir=tmp_path / "calendar-state",
        user_email=ME,
        poll_seconds=3600,
        **flags,
    )
    return build_calendar(settings, clock=ManualClock(NOW))


def calendar_file(tmp_path: Path) -> Path:
    return tmp_path / "calendars" / "work.ics"


def context_store(tmp_path: Path) -> PepperServer:
    return build_context_store(ContextStoreSettings(db_path=tmp_path / "context.sqlite3", embedder="none"))


def notify(tmp_path: Path) -> FastMCP:
    return build_notify(
        NotifySettings(db_path=tmp_path / "notify.sqlite3", desktop="off"), NotifyClock(NOW.astimezone(UTC))
    )


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` (its path, so Maildir flags and moves count) with a hash of its
    bytes, and every folder (a Maildir label is one)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "/"
        for path in sorted(folder.rglob("*"))
    }
