"""The local ICS provider: calendars kept in .ics files, or in folders of them, read and written in place.

Each .ics file is one calendar, named by its file name (`work.ics` is calendar `work`). A file is
parsed again only when its size, inode or modification time changes, so edits on disk show up on
the next read; `watch()` follows the files with watchfiles and reports changes as they happen. A
file that cannot be read becomes a calendar with an `error`, and the others keep working. A path
that does not exist yet is an empty calendar, created by its first write. Writes replace the
whole file atomically; with a `Mailer`, every write that changes a series the user organises for
other people sends them the iTIP invitation or cancellation (`invites`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

import anyio
import icalendar
from watchfiles import awatch

from mcp_servers.calendar.errors import CalendarSourceError, save_failure
from mcp_servers.calendar.ics import parse_ics
from mcp_servers.calendar.ics_write import atomic_write
from mcp_servers.calendar.invites import Mailer, invitations, itip_email
from mcp_servers.calendar.models import CalendarInfo
from mcp_servers.calendar.parsed_provider import ParsedProvider, Source
from mcp_servers.calendar.provider import OnChange

__all__ = ["IcsProvider"]

logger = logging.getLogger(__name__)
MAX_FILE_BYTES = 64 * 1024 * 1024
_EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pepper//calendar//EN\r\nEND:VCALENDAR\r\n"


@dataclass
class _FileSource(Source):
    path: Path = Path()
    stamp: tuple[int, int, int] | None = None


class IcsProvider(ParsedProvider):
    """Calendars from .ics files and folders; see the module docstring."""

    def __init__(
        self,
        paths: Sequence[Path],
        zone: tzinfo,
        organizer: str | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        if not paths:
            raise CalendarSourceError("no calendar files given: pass --ics PATH (a .ics file or a folder)")
        if mailer is not None and not organizer:
            raise CalendarSourceError(
                "invitations need your address as their organizer: set PEPPER_CALENDAR_USER_EMAIL"
            )
        super().__init__(zone, organizer)
        self._mailer = mailer
        self._roots = [Path(path).expanduser().resolve() for path in paths]
        self._sources: dict[Path, _FileSource] = {}

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for root in self._roots:
            if root.is_dir():
                files.extend(sorted(p for p in root.rglob("*.ics") if not p.name.startswith(".")))
            else:
                files.append(root)
        return list(dict.fromkeys(files))

    def _refresh(self) -> list[Source]:
        files = self._files()
        taken = {source.id for path, source in self._sources.items() if path in files}
        for path in files:
            if path not in self._sources:
                self._sources[path] = _FileSource(_unique_id(path, taken), str(path), path=path)
                taken.add(self._sources[path].id)
            self._load(self._sources[path])
        for gone in set(self._sources) - set(files):
            del self._sources[gone]
        return [self._sources[path] for path in files]

    def _load(self, source: _FileSource) -> None:
        try:
            status = source.path.stat()
        except FileNotFoundError:
            if source.stamp != (0, 0, 0):
                source.stamp, source.error = (0, 0, 0), None
                source.parsed, source.fingerprints = parse_ics(_EMPTY, str(source.path)), None
            return
        except OSError as exc:
            source.stamp, source.parsed, source.error = None, None, f"{source.path}: cannot read: {exc}"
            return
        stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
        if stamp == source.stamp:
            return
        source.stamp, source.fingerprints = stamp, None
        try:
            if status.st_size > MAX_FILE_BYTES:
                raise CalendarSourceError(f"{source.path}: larger than {MAX_FILE_BYTES} bytes")
            source.parsed, source.error = parse_ics(source.path.read_bytes(), str(source.path)), None
        except (CalendarSourceError, OSError) as exc:
            source.parsed, source.error = None, str(exc)
            logger.warning("calendar %s unreadable: %s", source.id, exc)

    def _info(self, source: Source) -> CalendarInfo:
        assert isinstance(source, _FileSource)
        name = source.parsed.name if source.parsed and source.parsed.name else source.path.stem
        return CalendarInfo(
            id=source.id,
            name=name,
            source=source.location,
            writable=(writable := self._writable(source)),
            access_role="owner" if writable else "reader",
            error=source.error,
            warnings=source.parsed.notes if source.parsed else [],
        )

    def _writable(self, source: Source) -> bool:
        assert isinstance(source, _FileSource)
        path = source.path
        if path.exists():  # no write bit means read-only, even for root, who may write anyway
            return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
        return path.parent.is_dir() and os.access(path.parent, os.W_OK)

    def _edit_target(self, source: Source, uid: str | None) -> icalendar.Calendar:
        assert source.parsed is not None
        return source.parsed.calendar  # the whole file: it is written back whole

    def _discard(self, source: Source) -> None:
        assert isinstance(source, _FileSource)
        source.stamp = None  # the in-memory calendar may be half-edited: parse the file again

    def _store(self, source: Source, uid: str, calendar: icalendar.Calendar) -> None:
        assert isinstance(source, _FileSource)
        try:
            calendar.add_missing_timezones()
        except Exception as exc:  # a zone icalendar cannot describe: the file is still valid with TZIDs
            logger.info("no VTIMEZONE added to %s: %s", source.path, exc)
        before = self._on_disk(source) if self._mailer is not None else None
        try:
            atomic_write(source.path, calendar.to_ical())
        except OSError as exc:
            raise save_failure(source.path, exc) from exc
        source.stamp = None  # parse the file we wrote on the next read, as any reader would
        self._load(source)
        if self._mailer is not None and self._organizer:
            for invitation in invitations(before, calendar, self._organizer):
                self._mailer.deliver(itip_email(invitation, self._organizer))

    def _on_disk(self, source: _FileSource) -> icalendar.Calendar | None:
        """The file before a write, read as reads see it (so untouched series compare equal)."""
        try:
            return parse_ics(source.path.read_bytes(), str(source.path)).calendar
        except (OSError, CalendarSourceError):
            return None

    async def watch(self, on_change: OnChange) -> None:
        """Report changes to the files (and new files in the folders) until cancelled.

        Folders are watched with their subfolders; a single file through its own folder only, so
        that `--ics ~/calendar.ics` does not watch the whole home directory.
        """
        folders = sorted({root for root in self._roots if root.is_dir()})
        parents = sorted({root.parent for root in self._roots if not root.is_dir()} - set(folders))
        existing_parents = [parent for parent in parents if parent.is_dir()]
        if not folders and not existing_parents:
            raise CalendarSourceError(f"cannot watch {', '.join(map(str, parents))}: no such folder")
        async with anyio.create_task_group() as group:
            if folders:
                group.start_soon(self._watch_paths, folders, True, on_change)
            if existing_parents:
                group.start_soon(self._watch_paths, existing_parents, False, on_change)

    async def _watch_paths(self, paths: list[Path], recursive: bool, on_change: OnChange) -> None:
        async for changes in awatch(*paths, debounce=100, step=20, rust_timeout=500, recursive=recursive):
            if any(self._concerns(Path(path)) for _, path in changes):
                await on_change()

    def _concerns(self, path: Path) -> bool:
        return path.suffix == ".ics" and not path.name.startswith(".") or path in self._roots


def _unique_id(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-") or "calendar"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate
