"""Reading iCalendar data: parse, check, and expand recurrences into `Event`s, bounded.

`parse_ics` reads bytes into a `ParsedCalendar`: the calendar normalised with `x_wr_timezone`
(Google exports), the events that cannot be used left out with a note saying why, and a
`recurring_ical_events` query over the rest. `expand` lists the occurrences in a window, bounded:
each series yields at most `limit` occurrences, so a rule with 50,000 instances costs no more than
`limit` and the result says it was truncated. A hostile or broken file cannot make a listing hang:
see `bounded` for the caps (dense rules, occurrences and time per listing); each cut is noted. Floating times are read in the user's timezone.
Parsing touches the global warnings filter, so callers serialise calls (the provider holds a lock).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.cal import Component

from mcp_servers.calendar.bounded import cap_dense_series, collect
from mcp_servers.calendar.errors import CalendarSourceError
from mcp_servers.calendar.event_ids import event_id
from mcp_servers.calendar.ics_events import aware, component_to_event, sort_key
from mcp_servers.calendar.models import Event

__all__ = [
    "Expansion",
    "ParsedCalendar",
    "expand",
    "expand_cached",
    "parse_ics",
    "prepare",
]

_QUERY_ERRORS = (ValueError, KeyError, TypeError, AttributeError, OverflowError, icalendar.InvalidCalendar)


class _TolerantQuery(recurring_ical_events.CalendarQuery):
    """A query that sets aside a broken series instead of failing the whole calendar."""

    suppressed_errors = [*recurring_ical_events.CalendarQuery.suppressed_errors, *_QUERY_ERRORS]


@dataclass
class Expansion:
    """The occurrences found in a window, and whether some were left out."""

    events: list[Event]
    truncated: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class ParsedCalendar:
    """One calendar file, parsed and checked."""

    calendar: icalendar.Calendar
    query: recurring_ical_events.CalendarQuery
    name: str | None
    notes: list[str] = field(default_factory=list)
    recurring_uids: set[str] = field(default_factory=set)
    templates: dict[int, Event] = field(default_factory=dict, repr=False)
    years: dict[int, Expansion] = field(default_factory=dict, repr=False)
    guarded_series: set[str] = field(default_factory=set)  # UIDs expanded under a deadline (`bounded`)
    slow_series: set[str] = field(default_factory=set)  # UIDs whose expansion ran out of time


def parse_ics(data: bytes, source: str) -> ParsedCalendar:
    """Parse one .ics file's bytes; raise `CalendarSourceError` when nothing usable is in it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calendar = _read_calendar(data, source)
    parsed = prepare(calendar, source)
    parsed.notes.extend(_warning_notes(caught))
    return parsed


def prepare(calendar: icalendar.Calendar, source: str) -> ParsedCalendar:
    """Check and index a calendar already parsed (a file, or objects fetched from a server)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calendar = x_wr_timezone.to_standard(calendar)
        notes = _drop_unusable_events(calendar)
        expandable, capped, guarded = cap_dense_series(calendar)
        notes.extend(capped)
        try:
            query = _TolerantQuery(expandable, skip_bad_series=True)
        except _QUERY_ERRORS as exc:
            raise CalendarSourceError(f"{source}: cannot expand its events: {exc}") from exc
    notes.extend(_warning_notes(caught))
    name = calendar.get("X-WR-CALNAME") or calendar.get("NAME")
    recurring = {
        str(event.get("UID", ""))
        for event in calendar.walk("VEVENT")
        if any(key in event for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }
    parsed = ParsedCalendar(calendar, query, str(name) if name else None, notes, recurring)
    parsed.guarded_series = guarded
    return parsed


def _read_calendar(data: bytes, source: str) -> icalendar.Calendar:
    try:
        components = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # icalendar raises bare ValueError, IndexError ... on bad input
        raise CalendarSourceError(f"{source}: not a valid iCalendar file: {exc}") from exc
    if not components:
        raise CalendarSourceError(
            f"{source}: no complete iCalendar component in the file (is an END: line missing?)"
        )
    if len(components) == 1 and isinstance(components[0], icalendar.Calendar):
        return components[0]
    merged = icalendar.Calendar()  # several VCALENDARs, or bare VEVENTs (a single exported event)
    for part in components:
        if isinstance(part, icalendar.Calendar):
            for key, value in part.property_items(recursive=False):
                if key not in ("BEGIN", "END") and key not in merged:
                    merged.add(key, value, encode=False)
            merged.subcomponents.extend(part.subcomponents)
        else:
            merged.add_component(part)
    return merged


def _drop_unusable_events(calendar: icalendar.Calendar) -> list[str]:
    """Remove VEVENTs without a usable start (or with a broken end), saying why; give UID-less ones a UID."""
    notes: list[str] = []
    kept: list[Component] = []
    for component in calendar.subcomponents:
        problem = _problem_with(component) if component.name == "VEVENT" else None
        if problem:
            notes.append(f"event {component.get('UID', '(no UID)')!s} skipped: {problem}")
            continue
        notes.extend(_unknown_zone_notes(component))
        if component.name == "VEVENT" and not str(component.get("UID", "")):
            component.pop("UID", None)  # a stable stand-in, so that occurrences share one series id
            component.add("UID", "no-uid-" + hashlib.sha256(component.to_ical()).hexdigest()[:16])
        kept.append(component)
    calendar.subcomponents[:] = kept
    return notes


def _problem_with(event: Component) -> str | None:
    for name, required in (("DTSTART", True), ("DTEND", False), ("DURATION", False)):
        if name not in event:
            if required:
                return f"it has no {name}"
            continue
        value = event[name]
        if isinstance(value, list):
            return f"it has more than one {name}"
        try:
            moment = value.dt
        except Exception as exc:  # a broken property raises on access
            return f"its {name} cannot be read ({exc})"
        expected = timedelta if name == "DURATION" else date
        if not isinstance(moment, expected):
            return f"its {name} is a {type(moment).__name__}, not a {expected.__name__}"
    return None


def _unknown_zone_notes(event: Component) -> list[str]:
    """icalendar reads a time with an unknown TZID as floating; say so, since we then use the user's zone."""
    notes = []
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        value = event.get(name)
        tzid = getattr(value, "params", {}).get("TZID") if value is not None else None
        if tzid and isinstance(value.dt, datetime) and value.dt.tzinfo is None:
            notes.append(
                f"event {event.get('UID', '(no UID)')!s}: unknown TZID {tzid!r} read in your timezone"
            )
    return notes


def _warning_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    return list(dict.fromkeys(str(warning.message) for warning in caught))


YEAR_SERIES_CAP = 5000
MAX_CACHED_SPAN = timedelta(days=800)
CACHED_YEARS = 6


def expand_cached(
    parsed: ParsedCalendar, calendar_id: str, start: datetime, end: datetime, zone: tzinfo, limit: int
) -> Expansion:
    """Like `expand`, from whole calendar years expanded once and kept with the parsed file.

    Most reads look at the same weeks again and again (the upcoming view, free slots), and the
    expansion costs far more than picking a window out of a year of ready events. A window longer
    than two years is expanded directly. A series yields at most YEAR_SERIES_CAP occurrences a year.
    """
    if end - start > MAX_CACHED_SPAN:
        return expand(parsed, calendar_id, start, end, zone, limit)
    result, seen = Expansion(events=[]), set()
    last = (end - timedelta(microseconds=1)).astimezone(zone).year
    for year in range(start.astimezone(zone).year, last + 1):
        chunk = _year(parsed, calendar_id, year, zone)
        if chunk.truncated:  # the year holds a series too dense to keep: expand just this window
            return expand(parsed, calendar_id, start, end, zone, limit)
        result.notes.extend(note for note in chunk.notes if note not in result.notes)
        for event in chunk.events:
            if event.id not in seen and _overlaps(event, start, end, zone):
                seen.add(event.id)
                result.events.append(event)
    result.events.sort(key=lambda event: sort_key(event.start, zone))
    result.truncated |= len(result.events) > limit
    del result.events[limit:]
    return result


def _year(parsed: ParsedCalendar, calendar_id: str, year: int, zone: tzinfo) -> Expansion:
    if year not in parsed.years:
        while len(parsed.years) >= CACHED_YEARS:
            parsed.years.pop(next(iter(parsed.years)))
        begin, end = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
        parsed.years[year] = expand(parsed, calendar_id, begin, end, zone, YEAR_SERIES_CAP, total=None)
    return parsed.years[year]


def _overlaps(event: Event, start: datetime, end: datetime, zone: tzinfo) -> bool:
    begins, ends = sort_key(event.start, zone), sort_key(event.end, zone)
    return begins < end and (ends > start or begins == ends >= start)


def expand(
    parsed: ParsedCalendar,
    calendar_id: str,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    limit: int,
    total: int | None = -1,
) -> Expansion:
    """Occurrences that overlap [start, end) in start order: `limit` per series and, unless `total`
    says otherwise (None: no cap; -1: `limit`), `limit` in all."""
    occurrences: list[Any] = []
    expansion = Expansion(events=[])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expansion.truncated = collect(
            parsed.query.series,
            (start, end),
            limit,
            occurrences,
            (parsed.guarded_series, parsed.slow_series),
            expansion.notes,
        )
        events = [_occurrence_to_event(occurrence, parsed, calendar_id, zone) for occurrence in occurrences]
    expansion.notes.extend(_warning_notes(caught))
    events.sort(key=lambda event: sort_key(event.start, zone))
    cap = limit if total == -1 else total
    if cap is not None:
        expansion.truncated |= len(events) > cap
        del events[cap:]
    expansion.events = events
    return expansion


def _occurrence_to_event(occurrence: Any, parsed: ParsedCalendar, calendar_id: str, zone: tzinfo) -> Event:
    """The occurrence as an `Event`: its component's fields (converted once), its own start and end.

    `Occurrence.as_component()` copies the whole component for every occurrence, ten times the cost
    of everything else here; so the source component is taken from the (private) adapter instead.
    """
    component = occurrence._adapter._component
    template = parsed.templates.get(id(component))
    recurring = str(component.get("UID", "")) in parsed.recurring_uids
    if template is None:
        template = component_to_event(component, calendar_id, zone, recurring=recurring)
        parsed.templates[id(component)] = template
    start, end = aware(occurrence.start, zone), aware(occurrence.end, zone)
    if sort_key(end, zone) < sort_key(start, zone):
        start, end = end, start
    if not recurring:
        if (start, end) == (template.start, template.end):
            return template
        return template.model_copy(
            update={"start": start, "end": end, "all_day": not isinstance(start, datetime)}
        )
    original = template.recurrence_id if "RECURRENCE-ID" in component else start
    return template.model_copy(
        update={
            "id": event_id(calendar_id, template.uid, original),
            "start": start,
            "end": end,
            "all_day": not isinstance(start, datetime),
            "recurrence_id": original,
        }
    )
