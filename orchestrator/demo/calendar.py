"""iCalendar output for the demo: a `Meeting` record and the bytes of a calendar holding some.

Times are aware datetimes in Europe/London, written with `TZID=Europe/London` and a VTIMEZONE with
the zone's rules (so clients that do not know the IANA name still read them right); all-day events
are plain dates. Attendees carry ROLE and PARTSTAT, and RSVP when they have not answered; a
conference link is a CONFERENCE property (RFC 7986), which Pepper's calendar server reads first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import icalendar

from orchestrator.demo.people import Person

__all__ = ["Meeting", "calendar_bytes"]

PRODID = "-//Pepper//demo calendar//EN"
_LONDON = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:DAYLIGHT
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
TZNAME:BST
DTSTART:19810329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
TZNAME:GMT
DTSTART:19961027T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


@dataclass
class Meeting:
    """What one VEVENT says; `to_component` writes it."""

    uid: str
    title: str
    start: date
    end: date
    organizer: Person | None = None
    attendees: list[tuple[Person, str]] = field(default_factory=list)
    description: str = ""
    location: str = ""
    conference: str = ""
    rrule: dict[str, object] | None = None
    exdates: list[datetime] = field(default_factory=list)
    recurrence_id: datetime | None = None
    free: bool = False

    def to_component(self, stamp: datetime) -> icalendar.Event:
        event = icalendar.Event()
        event.add("uid", self.uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("summary", self.title)
        event.add("dtstart", self.start)
        event.add("dtend", self.end)
        if self.recurrence_id is not None:
            event.add("recurrence-id", self.recurrence_id)
        if self.rrule:
            event.add("rrule", self.rrule)
        if self.exdates:
            event.add("exdate", self.exdates)
        if self.organizer:
            event.add("organizer", _address(self.organizer, None))
        for person, status in self.attendees:
            event.add("attendee", _address(person, status), encode=False)
        for name, value in (("description", self.description), ("location", self.location)):
            if value:
                event.add(name, value)
        if self.conference:
            params = {"VALUE": "URI", "FEATURE": "AUDIO,VIDEO", "LABEL": "Join the call"}
            event.add("conference", self.conference, parameters=params)
        event.add("transp", "TRANSPARENT" if self.free else "OPAQUE")
        return event


def _address(person: Person, status: str | None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = person.name
    if status is not None:
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = status
        if status == "NEEDS-ACTION":
            address.params["RSVP"] = "TRUE"
    return address


def calendar_bytes(name: str, meetings: list[Meeting], stamp: datetime, method: str | None = None) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add_component(icalendar.Timezone.from_ical(_LONDON))
    for meeting in meetings:
        calendar.add_component(meeting.to_component(stamp))
    return calendar.to_ical()
