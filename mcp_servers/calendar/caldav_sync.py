"""A local copy of one CalDAV collection, kept current with sync-collection (RFC 6578) or, failing that, ETags.

`CollectionMirror.refresh(collection)` asks the server what changed since the last sync-token
(one REPORT; nothing comes back when nothing changed), drops what was deleted, and fetches what
was added or changed with one calendar-multiget per hundred objects. An invalid or expired token
(DAV:valid-sync-token) starts over with a full listing, which replaces the copy, so nothing is
counted twice and nothing deleted meanwhile survives. A server without sync-collection is
followed through its CTag (one PROPFIND) and, when that moved, the ETags of its members.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import icalendar
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error as dav_error

__all__ = ["CollectionMirror", "ObjectCopy"]

logger = logging.getLogger(__name__)
BATCH = 100


class GetCtag(ValuedBaseElement):
    """CalendarServer's collection tag: changes whenever any member does."""

    tag = "{http://calendarserver.org/ns/}getctag"


@dataclass
class ObjectCopy:
    """One calendar object resource as last fetched."""

    url: str
    etag: str | None
    calendar: icalendar.Calendar | None
    error: str | None = None


class _SyncUnsupported(Exception):
    """The server cannot do sync-collection on this collection."""


class CollectionMirror:
    """The members of one collection by path, and how to bring them up to date; see the module docstring."""

    def __init__(self, use_sync: bool = True) -> None:
        self.objects: dict[str, ObjectCopy] = {}
        self.token: str | None = None
        self.ctag: str | None = None
        self.mode: Literal["sync", "etag"] = "sync" if use_sync else "etag"
        self.full_reads = 0  # listings of every member: the first one, and after a lost token
        self.fetched = 0  # objects downloaded
        self._loaded = False

    def refresh(self, collection: Any) -> bool:
        """Bring the copy up to date; True when any member was added, changed or removed."""
        if self.mode == "sync":
            try:
                return self._sync(collection)
            except _SyncUnsupported as exc:
                logger.info("%s: no sync-collection (%s); comparing ETags instead", collection.url, exc)
                self.mode, self.token = "etag", None
        return self._compare_etags(collection)

    def _sync(self, collection: Any) -> bool:
        try:
            result = collection.get_objects_by_sync_token(
                sync_token=self.token, load_objects=False, disable_fallback=True
            )
        except dav_error.DAVError as exc:
            preconditions = getattr(exc, "preconditions", None) or ()
            if self.token is not None and dav.ValidSyncToken.tag in preconditions:
                logger.info("%s: sync-token no longer valid; reading the collection in full", collection.url)
                self.token = None
                return self._sync(collection)
            if isinstance(exc, dav_error.AuthorizationError) and dav.SupportedReport.tag not in preconditions:
                raise
            raise _SyncUnsupported(_short(exc)) from exc
        deleted = {_path(url) for url in getattr(result, "deleted_urls", ())}
        listed = {
            _path(item.url): (str(item.url), item.props.get(dav.GetEtag.tag))
            for item in result
            if _path(item.url) not in deleted
        }
        changed = self._apply(collection, listed, deleted, full=self.token is None)
        self.token = result.sync_token
        return changed

    def _compare_etags(self, collection: Any) -> bool:
        ctag = collection.get_property(GetCtag())
        if ctag is not None and ctag == self.ctag and self._loaded:
            return False
        response = collection.get_properties([dav.GetEtag()], depth=1, parse_response_xml=False)
        own = _path(collection.url).rstrip("/")
        listed = {
            _path(href): (str(collection.url.join(href)), props.get(dav.GetEtag.tag))
            for href, props in response.expand_simple_props([dav.GetEtag()]).items()
            if _path(href).rstrip("/") != own
        }
        changed = self._apply(collection, listed, set(), full=True)
        self.ctag = ctag
        return changed

    def _apply(
        self, collection: Any, listed: dict[str, tuple[str, str | None]], deleted: set[str], full: bool
    ) -> bool:
        """Drop what is gone and fetch what is new or changed; `full`: `listed` is every member."""
        removed = (set(self.objects) - set(listed)) if full else (deleted & set(self.objects))
        if full:
            self.full_reads += 1
        stale = [
            url
            for path, (url, etag) in listed.items()
            if path not in self.objects or etag is None or self.objects[path].etag != etag
        ]
        for path in removed:
            del self.objects[path]
        for start in range(0, len(stale), BATCH):
            self._fetch(collection, stale[start : start + BATCH])
        self._loaded = True
        return bool(removed or stale)

    def _fetch(self, collection: Any, urls: list[str]) -> None:
        for item in collection.multiget([collection.url.join(url) for url in urls]):
            path = _path(item.url)
            self.fetched += 1
            if item.data is None:  # gone between the listing and the fetch
                self.objects.pop(path, None)
                continue
            etag = (item.props or {}).get(dav.GetEtag.tag)
            try:
                parsed = icalendar.Calendar.from_ical(item.data)
            except ValueError as exc:
                self.objects[path] = ObjectCopy(str(item.url), etag, None, f"not valid iCalendar: {exc}")
                continue
            self.objects[path] = ObjectCopy(str(item.url), etag, parsed)


def _path(url: object) -> str:
    return unquote(urlsplit(str(url)).path)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200]
