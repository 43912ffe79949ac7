"""A local Google Calendar API v3 emulator, routed by the discovery document the client ships.

The routes come from `googleapiclient/discovery_cache/documents/calendar.v3.json`: every method's
HTTP verb and path template (with and without the `calendar/v3/` prefix). The methods the provider
uses are implemented over an in-memory store: calendarList.list (with each calendar's accessRole),
events.list (pages, syncToken with only what changed since, 410 GONE for an unknown token,
showDeleted), events.get, insert (403 on a calendar the user may only read), patch (an instance id
`<id>_<20260309T090000Z>` creates the exception), delete, move, and freebusy.query
(over single timed events; a calendar it does not hold is notFound). Any other method of
the document answers 501; a path the document does not know answers 404.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import googleapiclient

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"


def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    document = json.loads(DISCOVERY.read_text())
    routes = []

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(method["path"]))
                routes.append(
                    (method["httpMethod"], re.compile(f"^/(?:calendar/v3/)?{pattern}$"), method["id"])
                )
            walk(resource.get("resources", {}))

    walk(document["resources"])
    return routes


class CalendarStore:
    """Calendars and their events, each change stamped with a sequence number."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calendars: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.changed_at: dict[tuple[str, str], int] = {}
        self.sequence = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.authorizations: set[str | None] = set()

    def add_calendar(self, calendar_id: str, summary: str, access_role: str = "owner") -> None:
        self.calendars[calendar_id] = {
            "kind": "calendar#calendarListEntry",
            "id": calendar_id,
            "summary": summary,
            "accessRole": access_role,
        }
        self.events[calendar_id] = {}

    def put(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        event.setdefault("id", uuid.uuid4().hex)
        event.setdefault("iCalUID", f"{event['id']}@google.com")
        event.setdefault("status", "confirmed")
        event["updated"] = f"2026-01-01T00:00:{self.sequence % 60:02d}.000Z"
        self.events[calendar_id][event["id"]] = event
        self.changed_at[(calendar_id, event["id"])] = self.sequence
        return event


class _Handler(BaseHTTPRequestHandler):
    store: CalendarStore
    routes: list[tuple[str, re.Pattern[str], str]]
    page_size = 50

    def log_message(self, *args: object) -> None:
        pass

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else {}
        for verb, pattern, method_id in self.routes:
            match = pattern.match(parts.path)
            if verb == self.command and match:
                params = {key: unquote(value) for key, value in match.groupdict().items()}
                with self.store.lock:
                    self.store.requests.append((method_id, query))
                    self.store.authorizations.add(self.headers.get("Authorization"))
                    status, payload = _METHODS.get(method_id, _not_implemented)(
                        self.store, params, query, body
                    )
                return self._reply(status, payload)
        self._reply(404, {"error": {"code": 404, "message": f"no such path {parts.path}"}})

    def _reply(self, status: int, payload: dict[str, Any] | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message, "errors": [{"message": message}]}}


def _not_implemented(*_: Any) -> tuple[int, dict[str, Any]]:
    return _error(501, "not implemented by the emulator")


def _calendar_list(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    return 200, {"kind": "calendar#calendarList", "items": list(store.calendars.values())}


def _events_list(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    calendar_id = params["calendarId"]
    if calendar_id not in store.events:
        return _error(404, "Not Found")
    since = 0
    if "syncToken" in query:
        if not query["syncToken"].startswith("sync-") or int(query["syncToken"][5:]) > store.sequence:
            return _error(410, "Sync token is no longer valid, a full sync is required.")
        since = int(query["syncToken"][5:])
    show_deleted = since > 0 or query.get("showDeleted") == "true"
    items = [
        event
        for event_id, event in sorted(
            store.events[calendar_id].items(), key=lambda kv: store.changed_at[(calendar_id, kv[0])]
        )
        if store.changed_at[(calendar_id, event_id)] > since
        and (show_deleted or _listed_when_not_deleted(event))
    ]
    start = int(query.get("pageToken", "0"))
    size = min(int(query.get("maxResults", _Handler.page_size)), _Handler.page_size)
    page = items[start : start + size]
    result: dict[str, Any] = {"kind": "calendar#events", "items": page, "timeZone": "UTC"}
    if start + size < len(items):
        result["nextPageToken"] = str(start + size)
    else:
        result["nextSyncToken"] = f"sync-{store.sequence}"
    return 200, result


def _listed_when_not_deleted(event: dict[str, Any]) -> bool:
    # Google: cancelled instances of recurring events are listed even without showDeleted
    # (as long as singleEvents is false), so that clients can exclude them.
    return event["status"] != "cancelled" or "recurringEventId" in event


def _events_get(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    event = store.events.get(params["calendarId"], {}).get(params["eventId"])
    return (200, event) if event else _error(404, "Not Found")


def _events_insert(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    if store.calendars[params["calendarId"]]["accessRole"] not in ("owner", "writer"):
        return _error(403, "Forbidden")
    if "start" not in body or "end" not in body:
        return _error(400, "Missing start or end time.")
    body.pop("id", None)
    return 200, store.put(params["calendarId"], body)


def _instance(store: CalendarStore, calendar_id: str, event_id: str) -> dict[str, Any] | None:
    master_id, _, key = event_id.rpartition("_")
    master = store.events[calendar_id].get(master_id)
    if master is None or "recurrence" not in master:
        return None
    original = {"date": f"{key[:4]}-{key[4:6]}-{key[6:8]}"} if len(key) == 8 else {
        "dateTime": f"{key[:4]}-{key[4:6]}-{key[6:8]}T{key[9:11]}:{key[11:13]}:{key[13:15]}Z",
        "timeZone": master["start"].get("timeZone", "UTC"),
    }  # fmt: skip
    instance = {k: v for k, v in master.items() if k not in ("id", "recurrence", "updated")}
    instance.update(id=event_id, recurringEventId=master_id, originalStartTime=original, start=original)
    return instance


def _events_patch(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    calendar_id, event_id = params["calendarId"], params["eventId"]
    event = store.events[calendar_id].get(event_id) or _instance(store, calendar_id, event_id)
    if event is None:
        return _error(404, "Not Found")
    return 200, store.put(calendar_id, {**event, **body})


def _events_delete(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, None]:
    calendar_id, event_id = params["calendarId"], params["eventId"]
    event = store.events[calendar_id].get(event_id) or _instance(store, calendar_id, event_id)
    if event is None or event["status"] == "cancelled":
        return _error(410 if event else 404, "Resource has been deleted" if event else "Not Found")
    store.put(calendar_id, {**event, "status": "cancelled"})
    return 204, None


def _events_move(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    """The event leaves its calendar (a cancelled entry there, as Google's sync shows it) and keeps
    its id and iCalUID in the destination."""
    calendar_id, event_id = params["calendarId"], params["eventId"]
    destination = query.get("destination", "")
    event = store.events.get(calendar_id, {}).get(event_id)
    if event is None or event["status"] == "cancelled" or destination not in store.events:
        return _error(404, "Not Found")
    if {store.calendars[c]["accessRole"] for c in (calendar_id, destination)} - {"owner", "writer"}:
        return _error(403, "Forbidden")
    store.put(calendar_id, {**event, "status": "cancelled"})
    return 200, store.put(destination, dict(event))


def _freebusy_query(store: CalendarStore, params: dict, query: dict, body: dict) -> tuple[int, dict]:
    """Busy periods of single (non-recurring) opaque events; calendars the store lacks are notFound."""
    window = (_instant(body["timeMin"]), _instant(body["timeMax"]))
    calendars: dict[str, Any] = {}
    for item in body.get("items", []):
        events = store.events.get(item["id"])
        if events is None:
            calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            continue
        busy = [
            {"start": event["start"]["dateTime"], "end": event["end"]["dateTime"]}
            for event in events.values()
            if event["status"] != "cancelled" and event.get("transparency") != "transparent"
            and "dateTime" in event.get("start", {}) and "recurrence" not in event
            and _instant(event["start"]["dateTime"]) < window[1]
            and _instant(event["end"]["dateTime"]) > window[0]
        ]  # fmt: skip
        calendars[item["id"]] = {"busy": sorted(busy, key=lambda period: _instant(period["start"]))}
    return 200, {"kind": "calendar#freeBusy", "timeMin": body["timeMin"], "timeMax": body["timeMax"], "calendars": calendars}  # fmt: skip


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_METHODS = {
    "calendar.calendarList.list": _calendar_list,
    "calendar.events.list": _events_list,
    "calendar.events.get": _events_get,
    "calendar.events.insert": _events_insert,
    "calendar.events.patch": _events_patch,
    "calendar.events.delete": _events_delete,
    "calendar.events.move": _events_move,
    "calendar.freebusy.query": _freebusy_query,
}


@contextmanager
def google_calendar_emulator() -> Iterator[tuple[str, CalendarStore]]:
    """Serve the emulator on a free loopback port; yield its base URL and its store."""
    store = CalendarStore()
    handler = type("Handler", (_Handler,), {"store": store, "routes": _routes()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", store
    finally:
        server.shutdown()
        server.server_close()
