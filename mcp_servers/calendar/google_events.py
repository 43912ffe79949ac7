"""Google Calendar event resources as iCalendar, and the pieces of a Google event body the writes need.

`to_icalendar` turns the synchronised events of one calendar into one VCALENDAR: masters with
their `recurrence` lines (RRULE, EXDATE, RDATE), exceptions (`recurringEventId`) as RECURRENCE-ID
overrides, cancelled exceptions as EXDATEs. `google_moment` reads a Google start or end in its own
zone; `rule_lines` splits a `recurrence` list into its RRULE and the rest; `google_details` is the
part of an insert or patch body that a draft or a patch sets besides title and times;
`read_freebusy` reads a freebusy.query answer, keeping the calendars Google would not tell about.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from mcp_servers.calendar.provider import AttendeeBusy, EventDraft, EventPatch
from mcp_servers.calendar.reminders import alarms_from_google, google_reminders

__all__ = [
    "COPIED",
    "google_details",
    "google_moment",
    "read_freebusy",
    "rule_lines",
    "to_icalendar",
]

_RESPONSES = {
    "needsAction": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
}
COPIED = ("summary", "location", "description", "attendees", "transparency", "visibility", "colorId")


def rule_lines(item: dict[str, Any]) -> tuple[icalendar.vRecur | None, list[str]]:
    """The RRULE of a Google event, and its other recurrence lines (EXDATE, RDATE)."""
    rule, others = None, []
    for line in item.get("recurrence", []):
        if line.upper().startswith("RRULE:") and rule is None:
            rule = icalendar.vRecur.from_ical(line[6:])
        else:
            others.append(line)
    return rule, others


def google_details(fields: EventDraft | EventPatch) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if fields.location is not None:
        body["location"] = fields.location
    if fields.description is not None:
        body["description"] = fields.description
    if fields.attendees is not None:
        body["attendees"] = [{"email": email} for email in fields.attendees]
    if fields.reminders is not None:
        body["reminders"] = google_reminders(fields.reminders)
    return body


def to_icalendar(items: Any) -> tuple[icalendar.Calendar, dict[str, str]]:
    """Google events as one VCALENDAR, and the Google id of each series master by iCalUID."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//Pepper//calendar google//EN")
    calendar.add("VERSION", "2.0")
    masters = {
        item.get("iCalUID", item["id"]): item["id"] for item in items if "recurringEventId" not in item
    }
    by_id = {google_id: uid for uid, google_id in masters.items()}
    components = {}
    for item in items:
        if "recurringEventId" not in item:
            components[item["id"]] = _vevent(item, item.get("iCalUID", item["id"]))
    for item in items:
        parent = components.get(item.get("recurringEventId", ""))
        if parent is None:
            continue
        original = google_moment(item["originalStartTime"])
        if item.get("status") == "cancelled":
            parent.add("EXDATE", original)
        else:
            override = _vevent(item, by_id[item["recurringEventId"]])
            override.add("RECURRENCE-ID", original)
            components[item["id"]] = override
    for component in components.values():
        calendar.add_component(component)
    return calendar, masters


def _vevent(item: dict[str, Any], uid: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("UID", uid)
    event.add("SUMMARY", item.get("summary", ""))
    event.add("DTSTART", google_moment(item["start"]))
    event.add("DTEND", google_moment(item["end"]))
    for key, name in (("location", "LOCATION"), ("description", "DESCRIPTION")):
        if item.get(key):
            event.add(name, item[key])
    event.add("STATUS", item.get("status", "confirmed").upper())
    if item.get("transparency") == "transparent":
        event.add("TRANSP", "TRANSPARENT")
    if item.get("organizer", {}).get("email"):
        organizer = item["organizer"]
        event.add("ORGANIZER", f"mailto:{organizer['email']}", parameters=_cn(organizer))
    for attendee in item.get("attendees", []):
        parameters = {
            "PARTSTAT": _RESPONSES.get(attendee.get("responseStatus", ""), "NEEDS-ACTION"),
            **_cn(attendee),
        }
        event.add("ATTENDEE", f"mailto:{attendee['email']}", parameters=parameters)
    link = item.get("hangoutLink") or next(
        (
            p.get("uri")
            for p in item.get("conferenceData", {}).get("entryPoints", [])
            if p.get("entryPointType") == "video"
        ),
        None,
    )
    if link:
        event.add("CONFERENCE", link, parameters={"VALUE": "URI"})
    for line in item.get("recurrence", []):
        _add_recurrence_line(event, line)
    alarms_from_google(item, event)
    return event


def _cn(person: dict[str, Any]) -> dict[str, str]:
    return {"CN": person["displayName"]} if person.get("displayName") else {}


def _add_recurrence_line(event: icalendar.Event, line: str) -> None:
    text = f"BEGIN:VEVENT\r\n{line}\r\nEND:VEVENT\r\n"
    parsed = icalendar.Event.from_ical(text)
    for name, value in parsed.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            event.add(name, value, encode=False)


def google_moment(when: dict[str, str]) -> date:
    if "date" in when:
        return date.fromisoformat(when["date"])
    moment = datetime.fromisoformat(when["dateTime"].replace("Z", "+00:00"))
    try:  # recurrence must follow the event's own zone across DST, not a fixed offset
        return moment.astimezone(ZoneInfo(when["timeZone"])) if when.get("timeZone") else moment
    except (ZoneInfoNotFoundError, ValueError):
        return moment


_FREEBUSY_REASONS = {
    "notFound": "Google does not know this calendar, or it is not shared with you",
    "groupTooBig": "the group has too many members to ask at once",
    "tooManyCalendarsRequested": "too many calendars asked at once",
}


def read_freebusy(answer: dict[str, Any], attendees: list[str]) -> AttendeeBusy:
    """Busy periods per attendee from a freebusy.query answer; errors and silence make them unread."""
    result = AttendeeBusy()
    calendars = answer.get("calendars", {})
    for email in attendees:
        entry = calendars.get(email) or calendars.get(email.lower())
        if entry is None:
            result.unread[email] = "Google did not answer for this address"
        elif entry.get("errors"):
            reason = entry["errors"][0].get("reason", "unknown")
            result.unread[email] = f"Google: {_FREEBUSY_REASONS.get(reason, reason)}"
        else:
            result.busy[email] = [
                (_instant(period["start"]), _instant(period["end"])) for period in entry.get("busy", [])
            ]
    return result


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
