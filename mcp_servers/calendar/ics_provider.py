"""The local ICS provider: calendars kept in .ics files, or in folders of them, read and written in place.

Each .ics file is one calendar, named by its file name (`work.ics` is calendar `work`). A file is
parsed again only when its size, inode or modification time changes, so edits on disk show up on
the next read; `watch()` follows the files with watchfiles and reports changes as they happen. A
file that cannot be read becomes a calendar with an `error`, and the others keep working. Writes
go through `ics_write` and replace the file atomically. Blocking work runs in a worker thread,
one call at a time (parsing touches process-wide warning filters).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TypeVar

import anyio
import icalendar
from watchfiles import awatch

from mcp_servers.calendar.errors import (
    CalendarSourceError,
    EventNotFoundError,
    InvalidEventError,
    WriteNotAllowedError,
)
from mcp_servers.calendar.event_ids import EventRef, parse_event_id
from mcp_servers.calendar.ics import (
    ParsedCalendar,
    component_to_event,
    expand,
    expand_cached,
    parse_ics,
    sort_key,
)
from mcp_servers.calendar.ics_write import (
    apply_patch,
    atomic_write,
    delete_from,
    find_component,
    new_event,
    override_for,
    set_response,
)
from mcp_servers.calendar.models import CalendarInfo, Event, EventList, ResponseStatus
from mcp_servers.calendar.provider import EventDraft, EventPatch, Fingerprint, OnChange

__all__ = ["IcsProvider"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class _Source:
    id: str
    path: Path
    stamp: tuple[int, int, int] | None = None
    parsed: ParsedCalendar | None = None
    error: str | None = None
    fingerprints: dict[str, Fingerprint] | None = field(default=None, repr=False)


class IcsProvider:
    """Calendars from .ics files and folders; see the module docstring."""

    def __init__(self, paths: Sequence[Path], zone: tzinfo, organizer: str | None = None) -> None:
        if not paths:
            raise CalendarSourceError("no calendar files given: pass --ics PATH (a .ics file or a folder)")
        self._roots = [Path(path).expanduser().resolve() for path in paths]
        self._zone = zone
        self._organizer = organizer
        self._lock = threading.Lock()
        self._sources: dict[Path, _Source] = {}

    async def _run(self, function: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return function()

        return await anyio.to_thread.run_sync(locked)

    # -- discovery and parsing -------------------------------------------------------------------

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for root in self._roots:
            if root.is_dir():
                files.extend(sorted(p for p in root.rglob("*.ics") if not p.name.startswith(".")))
            else:
                files.append(root)
        return list(dict.fromkeys(files))

    def _refresh(self) -> list[_Source]:
        files = self._files()
        taken = {source.id for path, source in self._sources.items() if path in files}
        for path in files:
            if path not in self._sources:
                self._sources[path] = _Source(_unique_id(path, taken), path)
                taken.add(self._sources[path].id)
            self._load(self._sources[path])
        for gone in set(self._sources) - set(files):
            del self._sources[gone]
        return [self._sources[path] for path in files]

    def _load(self, source: _Source) -> None:
        try:
            status = source.path.stat()
        except FileNotFoundError:  # a calendar that the first write will create
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

    def _source(self, calendar: str) -> _Source:
        for source in self._refresh():
            if source.id == calendar:
                if source.parsed is None:
                    raise CalendarSourceError(f"calendar {calendar!r} cannot be read: {source.error}")
                return source
        raise CalendarSourceError(f"no calendar {calendar!r}; list_calendars names the calendars there are")

    # -- reads -----------------------------------------------------------------------------------

    async def list_calendars(self) -> list[CalendarInfo]:
        return await self._run(lambda: [self._info(source) for source in self._refresh()])

    def _info(self, source: _Source) -> CalendarInfo:
        name = source.parsed.name if source.parsed and source.parsed.name else source.path.stem
        return CalendarInfo(
            id=source.id,
            name=name,
            source=str(source.path),
            writable=_writable(source.path),
            error=source.error,
            warnings=source.parsed.notes if source.parsed else [],
        )

    async def list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList:
        return await self._run(lambda: self._list_events(start, end, calendars, limit))

    def _list_events(
        self, start: datetime, end: datetime, calendars: list[str] | None, limit: int
    ) -> EventList:
        sources = self._refresh()
        if calendars:
            unknown = set(calendars) - {source.id for source in sources}
            if unknown:
                raise CalendarSourceError(
                    f"no calendar {', '.join(sorted(unknown))}; list_calendars names the calendars there are"
                )
            sources = [source for source in sources if source.id in calendars]
        result = EventList(events=[])
        start, end = start.astimezone(self._zone), end.astimezone(self._zone)
        for source in sources:
            if source.parsed is None:
                result.errors.append(source.error or f"{source.path}: unreadable")
                continue
            expansion = expand_cached(source.parsed, source.id, start, end, self._zone, limit)
            result.events.extend(expansion.events)
            result.truncated |= expansion.truncated
            result.errors.extend(f"{source.id}: {note}" for note in expansion.notes)
        result.events.sort(key=lambda event: sort_key(event.start, self._zone))
        result.truncated |= len(result.events) > limit
        del result.events[limit:]
        return result

    async def get_event(self, event_id: str) -> Event:
        return await self._run(lambda: self._get_event(parse_event_id(event_id)))

    def _get_event(self, ref: EventRef) -> Event:
        source = self._source(ref.calendar)
        assert source.parsed is not None
        calendar = source.parsed.calendar
        component = find_component(calendar, ref.uid, ref.recurrence)
        if component is not None:
            recurring = ref.recurrence is not None or any(n in component for n in ("RRULE", "RDATE"))
            return component_to_event(component, source.id, self._zone, recurring=recurring)
        if ref.recurrence is not None:
            occurrence = self._generated_occurrence(source, ref)
            if occurrence is not None:
                return occurrence
        raise EventNotFoundError(f"no event {ref.series_id}{':' + ref.recurrence if ref.recurrence else ''}")

    def _generated_occurrence(self, source: _Source, ref: EventRef) -> Event | None:
        assert source.parsed is not None and ref.recurrence is not None
        moment = _moment_of(ref.recurrence, self._zone)
        window = expand(source.parsed, source.id, moment, moment + timedelta(days=1), self._zone, 10_000)
        wanted = f"{ref.series_id}:{ref.recurrence}"
        return next((event for event in window.events if event.id == wanted), None)

    async def fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        return await self._run(self._fingerprints)

    def _fingerprints(self) -> dict[str, dict[str, Fingerprint]]:
        result: dict[str, dict[str, Fingerprint]] = {}
        for source in self._refresh():
            if source.parsed is None:
                continue  # an unreadable file is not a deletion of everything in it
            if source.fingerprints is None:
                source.fingerprints = _series_fingerprints(source.parsed.calendar)
            result[source.id] = source.fingerprints
        return result

    # -- writes ----------------------------------------------------------------------------------

    def _write(self, source: _Source) -> None:
        if not _writable(source.path):
            raise WriteNotAllowedError(
                f"{source.path} is read-only; make it writable or pick another calendar"
            )
        assert source.parsed is not None
        calendar = source.parsed.calendar
        try:
            calendar.add_missing_timezones()
        except Exception as exc:  # a zone icalendar cannot describe: the file is still valid with TZIDs
            logger.info("no VTIMEZONE added to %s: %s", source.path, exc)
        atomic_write(source.path, calendar.to_ical())
        source.stamp = None  # parse the file we wrote on the next read, as any reader would
        self._load(source)

    async def create_event(self, draft: EventDraft) -> Event:
        return await self._run(lambda: self._create_event(draft))

    def _create_event(self, draft: EventDraft) -> Event:
        calendar_id = draft.calendar or self._default_calendar()
        source = self._source(calendar_id)
        assert source.parsed is not None
        component = new_event(draft, self._organizer, self._zone)
        source.parsed.calendar.add_component(component)
        self._write(source)
        return self._get_event(EventRef(source.id, str(component["UID"])))

    def _default_calendar(self) -> str:
        for source in self._refresh():
            if source.parsed is not None and _writable(source.path):
                return source.id
        raise WriteNotAllowedError("no writable calendar: pass a writable .ics file with --ics")

    async def update_event(self, event_id: str, patch: EventPatch) -> Event:
        return await self._run(lambda: self._update_event(parse_event_id(event_id), patch))

    def _update_event(self, ref: EventRef, patch: EventPatch) -> Event:
        source = self._source(ref.calendar)
        assert source.parsed is not None
        calendar = source.parsed.calendar
        if ref.recurrence is None:
            component = find_component(calendar, ref.uid, None)
            if component is None:
                raise EventNotFoundError(f"no event {ref.series_id}")
        else:
            self._get_event(ref)  # the occurrence must exist (not excluded, not beyond the rule)
            component = override_for(calendar, ref.uid, ref.recurrence)
        apply_patch(component, patch, self._organizer, self._zone)
        self._write(source)
        return self._get_event(ref)

    async def delete_event(self, event_id: str) -> None:
        await self._run(lambda: self._delete_event(parse_event_id(event_id)))

    def _delete_event(self, ref: EventRef) -> None:
        source = self._source(ref.calendar)
        assert source.parsed is not None
        if ref.recurrence is not None:
            self._get_event(ref)
        delete_from(source.parsed.calendar, ref.uid, ref.recurrence)
        self._write(source)

    async def respond_to_invite(self, event_id: str, email: str, response: ResponseStatus) -> Event:
        return await self._run(lambda: self._respond(parse_event_id(event_id), email, response))

    def _respond(self, ref: EventRef, email: str, response: ResponseStatus) -> Event:
        source = self._source(ref.calendar)
        assert source.parsed is not None
        calendar = source.parsed.calendar
        if ref.recurrence is None:
            component = find_component(calendar, ref.uid, None)
            if component is None:
                raise EventNotFoundError(f"no event {ref.series_id}")
        else:
            self._get_event(ref)
            component = override_for(calendar, ref.uid, ref.recurrence)
        set_response(component, email, response)
        self._write(source)
        return self._get_event(ref)

    # -- watching --------------------------------------------------------------------------------

    async def watch(self, on_change: OnChange) -> None:
        """Report changes to the files (and new files in the folders) until cancelled."""
        folders = sorted({root if root.is_dir() else root.parent for root in self._roots})
        existing = [folder for folder in folders if folder.is_dir()]
        if not existing:
            raise CalendarSourceError(f"cannot watch {', '.join(map(str, folders))}: no such folder")
        async for changes in awatch(*existing, debounce=100, step=20, rust_timeout=500, recursive=True):
            if any(self._concerns(Path(path)) for _, path in changes):
                await on_change()

    def _concerns(self, path: Path) -> bool:
        return path.suffix == ".ics" and not path.name.startswith(".") or path in self._roots


_EMPTY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pepper//calendar//EN\r\nEND:VCALENDAR\r\n"


def _unique_id(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-") or "calendar"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _writable(path: Path) -> bool:
    if path.exists():  # no write bit means read-only, even for root, who may write anyway
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    return path.parent.is_dir() and os.access(path.parent, os.W_OK)


def _moment_of(recurrence: str, zone: tzinfo) -> datetime:
    if len(recurrence) == 8:
        return datetime.strptime(recurrence, "%Y%m%d").replace(tzinfo=zone)
    try:
        return datetime.strptime(recurrence, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidEventError(f"{recurrence!r} is not a recurrence id like 20260105T090000Z") from exc


def _series_fingerprints(calendar: icalendar.Calendar) -> dict[str, Fingerprint]:
    grouped: dict[str, list[bytes]] = {}
    titles: dict[str, str | None] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", ""))
        grouped.setdefault(uid, []).append(component.to_ical())
        if "RECURRENCE-ID" not in component or uid not in titles:
            titles[uid] = str(component["SUMMARY"]) if "SUMMARY" in component else None
    return {
        uid: (hashlib.sha256(b"".join(sorted(parts))).hexdigest(), titles.get(uid))
        for uid, parts in grouped.items()
    }
