"""A calendar file that cannot be saved (a full disk: a real tmpfs; its folder remounted read-only
under a running server) is an error in words, the file is left as it was, reads go on, and saving
works again as soon as there is room or the folder is writable, without a restart. The change log in
the state directory says the same of itself (full; read-only or corrupt at start: one line, exit 2)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import icalendar
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.calendar.changes import ChangeLog
from mcp_servers.calendar.errors import StorageError
from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.provider import EventDraft
from mcp_servers.calendar.server import _change_log_path
from mcp_servers.calendar.settings import CalendarSettings
from tests.support.mounts import mounted
from tests.support.processes import REPO_ROOT, child_env, stdio_transport

ZONE = ZoneInfo("Europe/Berlin")
EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"


def draft(title: str, day: int) -> EventDraft:
    return EventDraft(
        title=title,
        start=datetime(2027, 1, day, 12, tzinfo=ZONE),
        end=datetime(2027, 1, day, 13, tzinfo=ZONE),
    )


def titles(path: Path) -> list[str]:
    return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")]


def fill(path: Path) -> None:
    with path.open("wb", buffering=0) as sink:
        try:
            while True:
                sink.write(b"\0" * 65536)
        except OSError:
            pass


@pytest.mark.anyio
async def test_a_full_disk_is_said_in_words_leaves_the_file_as_it_was_and_passes_when_space_returns(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)):
        calendar, filler = disk / "work.ics", disk / "filler"
        calendar.write_bytes(EMPTY)
        provider = IcsProvider([calendar], ZONE)
        await provider.create_event(draft("Before", 4))
        fill(filler)
        with pytest.raises(
            StorageError, match=rf"^disk full: cannot save {calendar} .* free space in {disk}"
        ):
            await provider.create_event(draft("Refused", 5))
        assert titles(calendar) == ["Before"]
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "work.ics"]  # no temporary file left
        filler.unlink()
        await provider.create_event(draft("After", 6))
        assert titles(calendar) == ["Before", "After"]


def test_a_full_change_log_is_said_keeps_what_it_recorded_and_catches_up_when_space_returns(
    tmp_path: Path,
) -> None:
    log = ChangeLog(tmp_path / "state" / "changes.sqlite3")
    log.record({"work": {"a": ("1", "A")}})
    db = log._db
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")  # full
    many = {uid: ("1", "x" * 2000) for uid in "bcdefghijklmnop"}
    with pytest.raises(StorageError, match=rf"^disk full: the database {log.path} cannot grow"):
        log.record({"work": {"a": ("1", "A"), **many}})
    assert [c.uid for c in log.read(None, 100).changes] == ["a"]  # still read, nothing half-written
    db.execute("PRAGMA max_page_count = 1000000")  # space returns: the next snapshot has it all
    assert log.record({"work": {"a": ("1", "A"), **many}}) == len(many)
    log.close()


def start(state_dir: Path, calendar: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run the server to its end with stdin closed: an early exit is what this looks at."""
    return subprocess.run(
        [sys.executable, "-m", "mcp_servers.calendar", "--ics", str(calendar), *flags],
        env=child_env({"PEPPER_CALENDAR_STATE_DIR": str(state_dir)}),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_a_corrupt_change_log_or_a_read_only_state_dir_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    calendar, state, view = tmp_path / "work.ics", tmp_path / "state", tmp_path / "view"
    calendar.write_bytes(EMPTY)
    state.mkdir(), view.mkdir()
    with mounted("--bind", "-o", "ro", str(state), str(view)):
        read_only = start(view, calendar)
    assert read_only.returncode == 2 and "Traceback" not in read_only.stderr
    assert f"the data directory {view} is read-only" in read_only.stderr
    log = _change_log_path(CalendarSettings(ics=[calendar], state_dir=state))
    log.write_bytes(b"not a database " * 100)
    corrupt = start(state, calendar)
    assert corrupt.returncode == 2 and "Traceback" not in corrupt.stderr
    assert f"pepper-calendar: the database {log} is corrupt or not a SQLite database" in corrupt.stderr


async def events(client: Client) -> list[str]:
    listed = await client.call_tool("list_events", {"start": "2027-01-01", "end": "2027-02-01"})
    return [event["title"] for event in listed.structured_content["events"]]


def create(title: str, day: int) -> dict[str, dict[str, str]]:
    return {
        "draft": {
            "title": title,
            "start": f"2027-01-{day:02d}T12:00:00",
            "end": f"2027-01-{day:02d}T13:00:00",
        }
    }


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_calendar_folder_remounted_read_only_under_the_server_is_said_reads_go_on_and_writes_return(
    tmp_path: Path,
) -> None:
    source, view = tmp_path / "source", tmp_path / "view"
    source.mkdir(), view.mkdir()
    (source / "work.ics").write_bytes(EMPTY)
    with mounted("--bind", str(source), str(view)):
        arguments = ["--ics", str(view / "work.ics"), "--allow-write", "--timezone", "Europe/Berlin"]
        transport = stdio_transport(
            "mcp_servers.calendar", arguments, {"PEPPER_CALENDAR_STATE_DIR": str(tmp_path / "state")}
        )
        async with Client(transport) as client:
            await client.call_tool("create_event", create("Before", 4))
            await anyio.run_process(["mount", "-o", "remount,bind,ro", str(view)])
            with pytest.raises(ToolError, match=rf"^no writable calendar: {view / 'work.ics'} read-only"):
                await client.call_tool("create_event", create("Refused", 5))
            assert await events(client) == ["Before"]  # reads go on
            await anyio.run_process(["mount", "-o", "remount,bind,rw", str(view)])
            await client.call_tool("create_event", create("After", 6))  # no restart needed
            assert await events(client) == ["Before", "After"]
        await transport.close()  # the server must be gone before its folder is unmounted
    assert titles(source / "work.ics") == ["Before", "After"]
