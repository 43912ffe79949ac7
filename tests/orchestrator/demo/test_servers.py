"""Pepper's real gmail and calendar servers, started over stdio on freshly generated demo data.

The demo is dated at `PINNED` and the servers run with their clock pinned there too (libfaketime, see
`tests/support/clock.py`): `upcoming` reads the system clock, and what it finds depends on the day.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from orchestrator.demo import DEMO_TIMEZONE, generate_demo
from orchestrator.demo.agenda import QBR_TITLE, RENEWAL_TITLE
from tests.support.clock import PinnedClock
from tests.support.processes import stdio_transport

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_servers_serve_the_demo_data_over_stdio(tmp_path: Path) -> None:
    clock = PinnedClock()
    summary = generate_demo(tmp_path / "data", now=clock.now())  # as `run --demo` does, at its clock
    gmail = stdio_transport(
        "mcp_servers.gmail",
        ["--maildir", str(summary.mail_dir), "--state-dir", str(tmp_path / "gmail")],
        clock.env(),
    )
    calendar = stdio_transport(
        "mcp_servers.calendar",
        ["--ics", str(summary.calendar_dir), "--timezone", DEMO_TIMEZONE],
        clock.env({"PEPPER_CALENDAR_STATE_DIR": str(tmp_path / "calendar-state")}),
    )
    async with Client(gmail) as mail, Client(calendar) as cal:
        due = await mail.call_tool("search_messages", {"query": "subject:budget is:unread"})
        unread = await mail.call_tool("search_messages", {"query": "is:unread", "limit": 500})
        sent = await mail.call_tool("search_messages", {"query": "label:SENT", "limit": 500})
        changes = await mail.call_tool("list_changes", {"limit": 1000})
        upcoming = await cal.call_tool("upcoming", {"within": "P2D"})
    subjects = [m["subject"] for m in due.structured_content["messages"]]
    assert any(subject.startswith("Q4 budget template due tomorrow") for subject in subjects)
    assert len(unread.structured_content["messages"]) == summary.unread
    assert sent.structured_content["messages"] and all(
        m["from"]["email"] == summary.user_address for m in sent.structured_content["messages"]
    )
    added = [c for c in changes.structured_content["changes"] if c["kind"] == "added"]
    assert len(added) == summary.messages and not [c for c in added if c["error"]]
    titles = [event["title"] for event in upcoming.structured_content["events"]]
    assert QBR_TITLE in titles and RENEWAL_TITLE in titles
