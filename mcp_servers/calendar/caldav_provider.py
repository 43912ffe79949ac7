"""The CalDAV provider: calendars on a CalDAV server (Fastmail, iCloud, Nextcloud, Radicale, Google).

The `caldav` client finds the user's calendars under the configured URL. Each calendar's objects
are mirrored locally (`caldav_sync`: sync-collection, RFC 6578, with one REPORT per read that
brings only what changed; the CTag and ETags on servers without it) and read as one parsed
calendar, so reads, expansion and edits are exactly those of the ICS provider. An edit fetches the one object that holds the UID and PUTs it back. Every
request has a timeout, and every failure (401, 500, a dropped connection, a server that does not
answer) becomes a `CalendarSourceError` that names the server and says what to check.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import anyio
import caldav
import icalendar
import niquests
from caldav.elements import dav
from caldav.lib import error as dav_error

from mcp_servers.calendar.caldav_freebusy import FreeBusyUnreadable, freebusy_url, query_freebusy
from mcp_servers.calendar.caldav_sync import CollectionMirror
from mcp_servers.calendar.errors import CalendarSourceError, EventNotFoundError
from mcp_servers.calendar.ics import prepare
from mcp_servers.calendar.models import AccessRole, CalendarInfo
from mcp_servers.calendar.parsed_provider import ParsedProvider, Source
from mcp_servers.calendar.provider import AttendeeBusy, OnChange
from mcp_servers.calendar.settings import CalendarSettings

__all__ = ["CaldavProvider"]

logger = logging.getLogger(__name__)
DISCOVERY_SECONDS = 300.0
T = TypeVar("T")


@dataclass
class _DavSource(Source):
    collection: Any = None
    name: str | None = None
    mirror: CollectionMirror = field(default_factory=CollectionMirror)
    generation: int = 0  # goes up whenever the parsed calendar is rebuilt
    hrefs: dict[str, str] = field(default_factory=dict)
    access_role: AccessRole = "writer"


class CaldavProvider(ParsedProvider):
    """Calendars of one CalDAV account; see the module docstring."""

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        zone: tzinfo,
        organizer: str | None = None,
        timeout: float = 20.0,
        poll_seconds: float = 30.0,
        sync_collection: bool = True,
        freebusy_url: str | None = None,
    ) -> None:
        super().__init__(zone, organizer)
        self._url, self._username, self._password = url, username, password
        self._timeout, self._poll = timeout, poll_seconds
        self._client: caldav.DAVClient | None = None
        self._sources: dict[str, _DavSource] = {}
        self._discovered_at = -DISCOVERY_SECONDS
        self._editing: dict[tuple[str, str], Any] = {}
        self._call_timeout = max(60.0, timeout * 6)
        self._sync_collection = sync_collection
        self._freebusy_url = freebusy_url

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> CaldavProvider:
        assert settings.caldav_url is not None
        password = settings.caldav_password.get_secret_value() if settings.caldav_password else None
        return cls(
            settings.caldav_url,
            settings.caldav_username,
            password,
            settings.zone(),
            organizer=settings.user_email,
            timeout=settings.caldav_timeout_seconds,
            poll_seconds=settings.poll_seconds,
            freebusy_url=settings.caldav_freebusy_url,
        )

    async def _run(self, function: Callable[[], T]) -> T:
        try:
            with anyio.fail_after(self._call_timeout):
                return await super()._run(function)
        except TimeoutError as exc:
            raise CalendarSourceError(
                f"the CalDAV server at {self._url} did not answer within {self._call_timeout:.0f} s"
            ) from exc

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Foreign errors, translated at this one boundary."""
        try:
            yield
        except dav_error.AuthorizationError as exc:
            self._client = None
            raise CalendarSourceError(
                f"the CalDAV server at {self._url} refused the credentials (HTTP 401/403): "
                "check PEPPER_CALENDAR_CALDAV_USERNAME and PEPPER_CALENDAR_CALDAV_PASSWORD"
            ) from exc
        except dav_error.NotFoundError as exc:
            raise CalendarSourceError(
                f"not found on the CalDAV server at {self._url}: {_short(exc)}"
            ) from exc
        except dav_error.DAVError as exc:
            raise CalendarSourceError(
                f"the CalDAV server at {self._url} answered with an error: {_short(exc)}"
            ) from exc
        except (niquests.exceptions.RequestException, OSError) as exc:
            self._client = None
            raise CalendarSourceError(
                f"cannot reach the CalDAV server at {self._url}: {_short(exc)}"
            ) from exc

    def _connect(self) -> caldav.DAVClient:
        if self._client is None:
            self._client = caldav.DAVClient(
                self._url, username=self._username, password=self._password, timeout=self._timeout
            )
        return self._client

    def _refresh(self) -> list[Source]:
        with self._translated():
            if time.monotonic() - self._discovered_at > DISCOVERY_SECONDS or not self._sources:
                self._discover()
            for source in self._sources.values():
                self._load(source)
        return list(self._sources.values())

    def _discover(self) -> None:
        collections = self._connect().principal().calendars()
        found: dict[str, _DavSource] = {}
        for collection in collections:
            calendar_id = _slug(str(collection.url))
            source = self._sources.get(calendar_id) or _DavSource(
                calendar_id, str(collection.url), mirror=CollectionMirror(self._sync_collection)
            )
            source.collection = collection
            source.access_role = _access_role(collection)
            found[calendar_id] = source
        self._sources, self._discovered_at = found, time.monotonic()

    def _load(self, source: _DavSource) -> None:
        """Sync the collection; rebuild the parsed calendar when anything in it changed."""
        if not source.mirror.refresh(source.collection) and source.parsed is not None:
            return
        merged = icalendar.Calendar()
        merged.add("PRODID", "-//Pepper//calendar//EN")
        merged.add("VERSION", "2.0")
        hrefs, zones, notes = {}, set(), []
        for path in sorted(source.mirror.objects):
            copy = source.mirror.objects[path]
            if copy.calendar is None:
                notes.append(f"{copy.url}: {copy.error}, skipped")
                continue
            for component in copy.calendar.subcomponents:
                if component.name == "VTIMEZONE":
                    if str(component.get("TZID")) in zones:
                        continue
                    zones.add(str(component.get("TZID")))
                merged.add_component(component)
                if component.name == "VEVENT":
                    hrefs[str(component.get("UID", ""))] = copy.url
        source.name = source.collection.get_display_name()
        source.parsed = prepare(merged, source.location)
        source.parsed.notes.extend(notes)
        source.hrefs, source.fingerprints, source.error = hrefs, None, None
        source.generation += 1

    def _info(self, source: Source) -> CalendarInfo:
        assert isinstance(source, _DavSource)
        return CalendarInfo(
            id=source.id,
            name=source.name or source.id,
            source=source.location,
            writable=self._writable(source),
            access_role=source.access_role,
            error=source.error,
            warnings=source.parsed.notes if source.parsed else [],
        )

    def _writable(self, source: Source) -> bool:
        assert isinstance(source, _DavSource)
        return source.access_role in ("owner", "writer")

    def _edit_target(self, source: Source, uid: str | None) -> icalendar.Calendar:
        assert isinstance(source, _DavSource)
        if uid is None:
            calendar = icalendar.Calendar()
            calendar.add("PRODID", "-//Pepper//calendar//EN")
            calendar.add("VERSION", "2.0")
            return calendar
        href = source.hrefs.get(uid)
        if href is None:
            raise EventNotFoundError(f"no event with UID {uid} in calendar {source.id}")
        with self._translated():
            item = source.collection.event_by_url(href)
            item.load()
            self._editing[(source.id, uid)] = item
            return icalendar.Calendar.from_ical(item.data)

    def _store(self, source: Source, uid: str, calendar: icalendar.Calendar) -> None:
        assert isinstance(source, _DavSource)
        item = self._editing.pop((source.id, uid), None)
        with self._translated():
            calendar.add_missing_timezones()
            if item is None:
                source.collection.add_event(calendar.to_ical().decode(), increase_seqno=False)
            elif not calendar.walk("VEVENT"):
                item.delete()
            else:
                item.data = calendar.to_ical().decode()
                item.save(increase_seqno=False)  # the edit set SEQUENCE as iCalendar wants it

    def _discard(self, source: Source) -> None:
        self._editing = {key: item for key, item in self._editing.items() if key[0] != source.id}

    async def attendee_busy(self, attendees: list[str], start: datetime, end: datetime) -> AttendeeBusy:
        """Each attendee's busy time by free-busy-query on the calendars the URL template names."""
        if self._freebusy_url is None:
            reason = (
                "set PEPPER_CALENDAR_CALDAV_FREEBUSY_URL (e.g. https://dav.example.com/{local}/) "
                "to read other people's free/busy; only events in your calendars they attend count"
            )
            return AttendeeBusy(unread=dict.fromkeys(attendees, reason))
        template = self._freebusy_url
        return await self._run(lambda: self._read_attendees(template, attendees, start, end))

    def _read_attendees(
        self, template: str, attendees: list[str], start: datetime, end: datetime
    ) -> AttendeeBusy:
        result = AttendeeBusy()
        with self._translated():
            client = self._connect()
        for email in attendees:
            try:
                result.busy[email] = query_freebusy(client, freebusy_url(template, email), start, end)
            except FreeBusyUnreadable as exc:
                result.unread[email] = str(exc)
        return result

    async def watch(self, on_change: OnChange) -> None:
        """Sync the collections every poll interval; report when anything in them changed."""
        while True:
            await anyio.sleep(self._poll)
            try:
                changed = await self._run(self._synced_changes)
            except CalendarSourceError as exc:
                logger.warning("CalDAV poll failed: %s", exc)
                continue
            if changed:
                await on_change()

    def _synced_changes(self) -> bool:
        before = {source.id: source.generation for source in self._sources.values()}
        self._refresh()
        return before != {source.id: source.generation for source in self._sources.values()}


def _access_role(collection: Any) -> AccessRole:
    """The user's role on a collection from its `current-user-privilege-set` (RFC 3744): `all` is
    owner, a write privilege writer, read reader, CalDAV's read-free-busy alone freeBusyReader. A
    server that does not say is taken as writer: it refuses a write it does not allow (403), which
    is reported."""
    try:
        found = collection.get_properties([dav.CurrentUserPrivilegeSet()], parse_props=False)
    except (dav_error.DAVError, niquests.RequestException, OSError) as exc:
        logger.info("CalDAV %s did not say the user's privileges: %s", collection.url, _short(exc))
        return "writer"
    element = next(iter(found.values()), None)
    granted = {child.tag.rpartition("}")[2] for child in element.iter()} if element is not None else set()
    if "all" in granted:
        return "owner"
    if granted & {"write", "write-content", "bind"}:
        return "writer"
    if "read" in granted:
        return "reader"
    return "freeBusyReader" if "read-free-busy" in granted else "writer"


def _slug(url: str) -> str:
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^a-z0-9_-]+", "-", last.lower()).strip("-") or "calendar"


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")
