"""Composio's GOOGLECALENDAR tools played over the Google Calendar emulator's store.

Each handler turns a tool's arguments (Composio's names: `calendar_id`, `start_datetime` plus
`event_duration_hour/minutes`, `start_time`, `rsvp_response` ...) into the Calendar API request the
emulator already answers, so sync tokens, instances and deletions behave as in the Google tests. A
Google error comes back as the tool's failure text (`<HttpError 410 ...>`), as Composio reports it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.mcp_servers.calendar.google_emulator import _METHODS, CalendarStore
from tests.support.composio_server import Handler, ToolFailure

__all__ = ["composio_calendar_tools"]


def composio_calendar_tools(store: CalendarStore, account: str) -> dict[str, Handler]:
    """Handlers of the GOOGLECALENDAR tools the adapter uses, over `store`, for `account`."""

    def call(method: str, params: dict[str, str], query: dict[str, str], body: dict[str, Any]) -> dict:
        with store.lock:
            status, payload = _METHODS[method](store, params, query, body)
        if status >= 400:
            raise ToolFailure(f'<HttpError {status} returned "{payload["error"]["message"]}">')
        return payload or {}

    def list_calendars(arguments: dict[str, Any]) -> dict[str, Any]:
        return {"calendars": call("calendar.calendarList.list", {}, {}, {})["items"]}

    def events_list(arguments: dict[str, Any]) -> dict[str, Any]:
        query = {key: str(value).lower() if isinstance(value, bool) else str(value)
                 for key, value in arguments.items() if key not in ("calendarId", "user_id")}  # fmt: skip
        return call("calendar.events.list", {"calendarId": arguments["calendarId"]}, query, {})

    def create_event(arguments: dict[str, Any]) -> dict[str, Any]:
        zone = arguments.get("timezone") or "UTC"
        start = datetime.fromisoformat(arguments["start_datetime"]).replace(tzinfo=ZoneInfo(zone))
        length = timedelta(hours=arguments.get("event_duration_hour", 0),
                           minutes=arguments.get("event_duration_minutes", 30))  # fmt: skip
        body: dict[str, Any] = {
            "summary": arguments.get("summary", ""),
            "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": (start + length).isoformat(), "timeZone": zone},
            "organizer": {"email": account, "self": True},
        }
        for key in ("location", "description", "recurrence", "transparency"):
            if arguments.get(key):
                body[key] = arguments[key]
        if arguments.get("attendees"):
            body["attendees"] = [
                {"email": email, "responseStatus": "needsAction"} for email in arguments["attendees"]
            ]
        return call(
            "calendar.events.insert", {"calendarId": arguments.get("calendar_id", "primary")}, {}, body
        )

    def patch_event(arguments: dict[str, Any]) -> dict[str, Any]:
        params = {"calendarId": arguments["calendar_id"], "eventId": arguments["event_id"]}
        body: dict[str, Any] = {
            key: arguments[key] for key in ("summary", "location", "description") if key in arguments
        }
        for name, key in (("start_time", "start"), ("end_time", "end")):
            if name in arguments:
                value = arguments[name]
                body[key] = {"date": value} if len(value) == 10 else {"dateTime": value, "timeZone": arguments.get("timezone") or "UTC"}  # fmt: skip
        if "attendees" in arguments:
            body["attendees"] = [{"email": email} for email in arguments["attendees"]]
        if "rsvp_response" in arguments:
            current = call("calendar.events.get", params, {}, {})
            body["attendees"] = [
                {**a, "responseStatus": arguments["rsvp_response"]} if a["email"] == account else a
                for a in current.get("attendees", [])
            ]
        return call("calendar.events.patch", params, {}, body)

    def delete_event(arguments: dict[str, Any]) -> dict[str, Any]:
        params = {"calendarId": arguments.get("calendar_id", "primary"), "eventId": arguments["event_id"]}
        return call("calendar.events.delete", params, {}, {})

    def free_busy_query(arguments: dict[str, Any]) -> dict[str, Any]:
        body = {key: arguments[key] for key in ("timeMin", "timeMax", "items")}
        return call("calendar.freebusy.query", {}, {}, body)

    return {
        "GOOGLECALENDAR_FREE_BUSY_QUERY": free_busy_query,
        "GOOGLECALENDAR_LIST_CALENDARS": list_calendars,
        "GOOGLECALENDAR_EVENTS_LIST": events_list,
        "GOOGLECALENDAR_CREATE_EVENT": create_event,
        "GOOGLECALENDAR_PATCH_EVENT": patch_event,
        "GOOGLECALENDAR_DELETE_EVENT": delete_event,
    }
