"""The Pepper servers the conformance checks cover, and how to start each on scratch data.

Each entry names a package under `mcp_servers/` and writes, under a scratch directory, the data its
command line points at (a database path, a Maildir, an ICS file), so that a run never touches the
user's real data. Its probe is a short sequence of tool calls, each made by a separate process, whose
last result must mention `MARKER`: the text of the demo message and event, or what the probe wrote
first. A server whose package has no `__main__.py` yet is reported as not available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import REPO_ROOT

MARKER = "Conformance check"

DEMO_MESSAGE = """\
From: Ada Lovelace <ada@example.org>
To: Pepper User <me@example.org>
Subject: Conformance check
Date: Tue, 24 Nov 2026 09:00:00 +0000
Message-ID: <conformance-1@example.org>
Content-Type: text/plain; charset=utf-8

A single message so that the mailbox is not empty.
"""

DEMO_CALENDAR = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Pepper//conformance//EN
BEGIN:VEVENT
UID:conformance-1@example.org
DTSTAMP:20261124T090000Z
DTSTART:20261125T100000Z
DTEND:20261125T110000Z
SUMMARY:Conformance check
END:VEVENT
END:VCALENDAR
"""


@dataclass(frozen=True)
class ToolCall:
    """One `tools/call`: a tool name and its arguments."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class PepperServer:
    """One server package, the flags that point it at scratch data, and the calls that probe it."""

    name: str
    prepare: Callable[[Path], list[str]]
    probe: tuple[ToolCall, ...]

    @property
    def module(self) -> str:
        return f"mcp_servers.{self.name}"

    def missing_reason(self) -> str | None:
        """Why this server cannot be run yet, or None when its package has a `__main__`."""
        main = REPO_ROOT / "mcp_servers" / self.name / "__main__.py"
        return None if main.is_file() else f"{self.module} has no __main__.py yet"

    def environment(self, scratch: Path) -> dict[str, str]:
        """Environment for the server: data and config directories inside `scratch`."""
        return {
            "HOME": str(scratch / "home"),
            "XDG_DATA_HOME": str(scratch / "data"),
            "XDG_CONFIG_HOME": str(scratch / "config"),
            "XDG_CACHE_HOME": str(scratch / "cache"),
        }


def database_flags(file_name: str) -> Callable[[Path], list[str]]:
    """Flags `--db <scratch>/<file_name>`."""
    return lambda scratch: ["--db", str(scratch / file_name)]


def maildir_flags(scratch: Path) -> list[str]:
    """A Maildir holding one message, and `--maildir` pointing at it."""
    maildir = scratch / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / "1700000000.conformance.pepper").write_text(DEMO_MESSAGE)
    return ["--maildir", str(maildir)]


def ics_flags(scratch: Path) -> list[str]:
    """An ICS file holding one event, and `--ics` pointing at it."""
    calendar = scratch / "calendar.ics"
    calendar.write_text(DEMO_CALENDAR.replace("\n", "\r\n"))
    return ["--ics", str(calendar)]


def require_server(server: PepperServer) -> None:
    """Skip the calling test, saying why, when `server` cannot be started yet."""
    reason = server.missing_reason()
    if reason is not None:
        pytest.skip(reason)


SERVERS = [
    PepperServer(
        "context_store",
        database_flags("context.db"),
        probe=(
            ToolCall("store", {"namespace": "conformance.check", "id": "1", "data": {"title": MARKER}}),
            ToolCall("get", {"namespace": "conformance.check", "id": "1"}),
        ),
    ),
    PepperServer(
        "gmail", maildir_flags, probe=(ToolCall("search_messages", {"query": "subject:conformance"}),)
    ),
    PepperServer(
        "calendar",
        ics_flags,
        probe=(ToolCall("list_events", {"start": "2026-11-25", "end": "2026-11-26"}),),
    ),
    PepperServer(
        "notify",
        database_flags("notify.db"),
        probe=(
            ToolCall("send_notification", {"title": MARKER, "priority": "low", "source": "conformance"}),
            ToolCall("list_notifications", {}),
        ),
    ),
]
