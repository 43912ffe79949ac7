"""The four Pepper servers as fuzz targets: how each starts on throwaway data with its write flags, the
calls that seed it (and whose results name real ids), and the read tool that proves it still serves.

Gmail serves a temporary Maildir with two messages (one a reply in the other's thread); the calendar a
temporary folder with a plain event, an invitation from someone else and a weekly series, inviting
through an outbox folder rather than SMTP; the context store and notify fresh SQLite files, notify with
desktop notifications off and no webhook or SMTP. Gmail and the calendar run with `--allow-send` (which
implies `--allow-write`), so that every write path is reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.mcp_servers.gmail.maildirs import deliver
from tests.mcp_servers.gmail.messages import plain_message

__all__ = ["TARGETS", "Target"]

ME = "me@example.com"

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pepper fuzz//EN
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
BEGIN:VEVENT
UID:standup@example.com
DTSTART;TZID=Europe/Berlin:20260302T093000
DTEND;TZID=Europe/Berlin:20260302T094500
RRULE:FREQ=WEEKLY;BYDAY=MO,WE
SUMMARY:Standup
END:VEVENT
END:VCALENDAR
"""


@dataclass(frozen=True)
class Call:
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One server: its module, how to lay out its data under a folder, its seed calls and its probe."""

    name: str
    prepare: Callable[[Path], tuple[list[str], dict[str, str]]]
    probe: Call
    seeds: tuple[Call, ...] = ()

    @property
    def module(self) -> str:
        return f"mcp_servers.{self.name}"


def _scratch_env(folder: Path) -> dict[str, str]:
    """HOME and the XDG folders inside `folder`: nothing a server writes lands in the real home."""
    return {
        "HOME": str(folder / "home"),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_CACHE_HOME": str(folder / "cache"),
    }


def _context_store(folder: Path) -> tuple[list[str], dict[str, str]]:
    return ["--db", str(folder / "context.sqlite3")], {
        **_scratch_env(folder),
        "PEPPER_CONTEXT_EMBEDDER": "none",
    }


def _gmail(folder: Path) -> tuple[list[str], dict[str, str]]:
    mail = folder / "Mail"
    deliver(mail, plain_message(subject="Budget", message_id="<budget@example.org>"))
    reply = plain_message(
        subject="Re: Budget", in_reply_to="<budget@example.org>", references="<budget@example.org>"
    )
    deliver(mail, reply, flags="S")
    arguments = ["--maildir", str(mail), "--state-dir", str(folder / "gmail-state"), "--allow-send"]
    return arguments, {**_scratch_env(folder), "PEPPER_GMAIL_FROM_ADDRESS": ME}


def _calendar(folder: Path) -> tuple[list[str], dict[str, str]]:
    calendars = folder / "calendars"
    calendars.mkdir(parents=True, exist_ok=True)
    (calendars / "work.ics").write_text(CALENDAR.replace("\n", "\r\n"))
    env = {
        **_scratch_env(folder),
        "PEPPER_CALENDAR_STATE_DIR": str(folder / "calendar-state"),
        "PEPPER_CALENDAR_USER_EMAIL": ME,
        "PEPPER_CALENDAR_INVITE_OUTBOX": str(folder / "outbox"),
    }
    return ["--ics", str(calendars), "--timezone", "Europe/Berlin", "--allow-send"], env


def _notify(folder: Path) -> tuple[list[str], dict[str, str]]:
    env = {**_scratch_env(folder), "PEPPER_NOTIFY_DESKTOP": "off"}
    return ["--db", str(folder / "notify.sqlite3")], env


TARGETS = {
    "context_store": Target(
        "context_store",
        _context_store,
        probe=Call("query", {"limit": 1}),
        seeds=(
            Call(
                "store",
                {"namespace": "signals.email", "id": "seed", "text": "budget review", "data": {"a": 1}},
            ),
            Call("store", {"namespace": "raw.email", "id": "m1", "text": "hello", "tags": ["inbox"]}),
        ),
    ),
    "gmail": Target(
        "gmail",
        _gmail,
        probe=Call("list_labels"),
        seeds=(
            Call("search_messages", {"query": "subject:budget"}),
            Call("create_draft", {"message": {"to": ["bob@example.org"], "subject": "Draft"}}),
        ),
    ),
    "calendar": Target(
        "calendar",
        _calendar,
        probe=Call("list_calendars"),
        seeds=(Call("list_events", {"start": "2026-03-01", "end": "2026-03-10"}),),
    ),
    "notify": Target(
        "notify",
        _notify,
        probe=Call("list_reminders"),
        seeds=(
            Call("send_notification", {"title": "Seed", "priority": "high", "source": "fuzz"}),
            Call("schedule_reminder", {"message": "Seed", "in": "1h"}),
        ),
    ),
}
