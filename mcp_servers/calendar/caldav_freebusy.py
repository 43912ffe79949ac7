"""Other people's busy time from a CalDAV server: a CALDAV:free-busy-query REPORT on their calendars.

Where an attendee's calendars are is configured as a URL template (`{email}`, `{local}` — the part
before the @ — and `{domain}`), e.g. `https://dav.example.com/{local}/`. The URL may name one
calendar, or a calendar home whose calendars are each asked. The answer's FREEBUSY periods
(BUSY, BUSY-TENTATIVE, BUSY-UNAVAILABLE; not FREE) become busy intervals. An attendee whose
calendars the server does not let us see, or that do not exist, is reported with the reason
instead of being taken for free.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import caldav
import icalendar
import niquests
from caldav.lib import error as dav_error

__all__ = ["FreeBusyUnreadable", "busy_periods", "freebusy_url", "query_freebusy"]

Interval = tuple[datetime, datetime]
_BUSY = {"BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"}


class FreeBusyUnreadable(Exception):
    """This attendee's free/busy cannot be read; the message says why."""


def freebusy_url(template: str, email: str) -> str:
    """The template filled in for `email`."""
    local, _, domain = email.partition("@")
    return template.format(email=quote(email, safe="@"), local=quote(local), domain=domain)


def query_freebusy(client: caldav.DAVClient, url: str, start: datetime, end: datetime) -> list[Interval]:
    """Busy intervals from the calendar at `url`, or from every calendar of the home at `url`."""
    try:
        try:
            return busy_periods(caldav.Calendar(client, url=url).freebusy_request(start, end).data)
        except (dav_error.AuthorizationError, dav_error.ReportError) as first:
            calendars = _calendars_of_home(client, url)
            if not calendars:
                raise first from None
            return [
                period
                for calendar in calendars
                for period in busy_periods(calendar.freebusy_request(start, end).data)
            ]
    except dav_error.AuthorizationError as exc:
        raise FreeBusyUnreadable(
            f"the server does not let you read the free/busy at {url} (HTTP 403)"
        ) from exc
    except dav_error.NotFoundError as exc:
        raise FreeBusyUnreadable(f"no calendar at {url}") from exc
    except dav_error.DAVError as exc:
        raise FreeBusyUnreadable(f"the server at {url} answered with an error: {_short(exc)}") from exc
    except (niquests.exceptions.RequestException, OSError, ValueError) as exc:
        raise FreeBusyUnreadable(f"cannot read the free/busy at {url}: {_short(exc)}") from exc


def _calendars_of_home(client: caldav.DAVClient, url: str) -> list[Any]:
    try:
        return list(caldav.CalendarSet(client, url=url).calendars())
    except dav_error.DAVError:
        return []


def busy_periods(data: str | bytes | None) -> list[Interval]:
    """The busy periods of every VFREEBUSY in an iCalendar answer."""
    if not data:
        return []
    calendar = icalendar.Calendar.from_ical(data)
    periods: list[Interval] = []
    for component in calendar.walk("VFREEBUSY"):
        lines = component.get("FREEBUSY", [])
        for line in lines if isinstance(lines, list) else [lines]:
            if str(line.params.get("FBTYPE", "BUSY")).upper() not in _BUSY:
                continue
            values = line if isinstance(line, list) else [line]
            periods.extend(_interval(value.dt) for value in values)
    return periods


def _interval(period: tuple[Any, Any]) -> Interval:
    start, end = period
    if isinstance(end, timedelta):
        end = start + end
    return _instant(start), _instant(end)


def _instant(moment: date) -> datetime:
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # RFC 5545: FREEBUSY is UTC


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
