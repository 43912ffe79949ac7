"""A calendar file that cannot be saved (a full disk: a real tmpfs) is an error in words, the file
is left as it was, and saving works again as soon as there is room, without a restart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from mcp_servers.calendar.errors import StorageError
from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.provider import EventDraft
from tests.support.mounts import mounted

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
