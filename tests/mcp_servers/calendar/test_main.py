"""The real `python -m mcp_servers.calendar` process over stdio and streamable HTTP, and its flags."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from mcp.client.subscriptions import listen
from pydantic import ValidationError

from mcp_servers.calendar.__main__ import parse_arguments, settings_from
from mcp_servers.calendar.server import UPCOMING_URI
from mcp_servers.calendar.settings import CalendarSettings
from tests.support.processes import http_server, stdio_transport

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:dentist@example.com
DTSTART:20260310T080000Z
DTEND:20260310T090000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    path = tmp_path / "personal.ics"
    path.write_text(EVENT.replace("\n", "\r\n"))
    return path


def test_settings_from_flags_override_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PEPPER_CALENDAR_TIMEZONE", "UTC")
    settings = settings_from(
        parse_arguments(["--ics", str(tmp_path), "--allow-write", "--timezone", "Asia/Tokyo"])
    )
    assert (settings.ics, settings.allow_write, settings.timezone) == ([tmp_path], True, "Asia/Tokyo")
    assert settings.allow_send is False
    assert settings_from(parse_arguments(["--ics", str(tmp_path), "--allow-send"])).allow_send is True
    assert parse_arguments([]).port == 8767


def test_settings_from_refuses_an_unknown_timezone() -> None:
    with pytest.raises(SystemExit, match="unknown timezone 'Mars/Base'"):
        settings_from(parse_arguments(["--timezone", "Mars/Base"]))


@pytest.mark.slow
@pytest.mark.anyio
async def test_main_serves_over_stdio(calendar_file: Path, tmp_path: Path) -> None:
    transport = stdio_transport(
        "mcp_servers.calendar",
        ["--ics", str(calendar_file), "--timezone", "Europe/Berlin"],
        env={"PEPPER_CALENDAR_STATE_DIR": str(tmp_path / "state")},
    )
    async with Client(transport) as client:
        result = await client.call_tool("list_events", {"start": "2026-03-10", "end": "2026-03-11"})
    assert [e["title"] for e in result.structured_content["events"]] == ["Dentist"]
    assert result.structured_content["events"][0]["start"] == "2026-03-10T08:00:00Z"


@pytest.mark.slow
@pytest.mark.anyio
async def test_main_serves_over_http_and_notifies_listeners(calendar_file: Path, tmp_path: Path) -> None:
    env = {"PEPPER_CALENDAR_STATE_DIR": str(tmp_path / "state")}
    with http_server("mcp_servers.calendar", ["--ics", str(calendar_file)], env=env) as url:
        async with Client(url) as client:
            changes = await client.call_tool("list_changes", {})
            assert [c["uid"] for c in changes.structured_content["changes"]] == ["dentist@example.com"]
            async with listen(client.session, resource_subscriptions=[UPCOMING_URI]) as stream:
                with anyio.fail_after(20):
                    await anyio.to_thread.run_sync(
                        calendar_file.write_text, EVENT.replace("Dentist", "Doctor")
                    )
                    async for update in stream:
                        assert update.uri == UPCOMING_URI
                        later = await client.call_tool(
                            "list_changes", {"since": changes.structured_content["cursor"]}
                        )
                        if later.structured_content["changes"]:
                            break
    assert [c["title"] for c in later.structured_content["changes"]] == ["Doctor"]


def test_settings_refuse_an_unknown_timezone_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPER_CALENDAR_TIMEZONE", "Atlantis/Capital")
    with pytest.raises(ValidationError, match="unknown timezone 'Atlantis/Capital'"):
        CalendarSettings()
