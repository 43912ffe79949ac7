"""Editing recurring series in iCalendar: a new rule, one occurrence, or this occurrence and the following.

The scope of an edit says what it reaches: `instance` (one occurrence: a RECURRENCE-ID override,
or an EXDATE to cancel it), `series` (the master: its fields, its rule, its times shifted by as
much as the occurrence named was moved) or `following` (the series is split: the old one ends
just before the occurrence, a new series with a new UID and RELATED-TO the old one starts at it
and takes along the later overrides and EXDATEs). Plain functions over `icalendar` components;
the providers decide where the changed components are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

import icalendar
from icalendar.cal import Component

from mcp_servers.calendar.errors import EventNotFoundError, InvalidEventError
from mcp_servers.calendar.event_ids import EventRef
from mcp_servers.calendar.ics_events import aware, sort_key
from mcp_servers.calendar.ics_write import bump_sequence, duration_of, find_component
from mcp_servers.calendar.models import Event
from mcp_servers.calendar.provider import EventPatch
from mcp_servers.calendar.rrules import fit_rule, parse_rule, split_rule

__all__ = [
    "Scope",
    "original_start",
    "resolve_scope",
    "set_rule",
    "shift_exceptions",
    "shifted_patch",
    "split_series",
]

Scope = Literal["instance", "following", "series"]
_SERIES_LINES = ("RRULE", "RDATE", "EXDATE")


def resolve_scope(ref: EventRef, scope: Scope | None, patch: EventPatch) -> Scope:
    """The scope an update reaches: as asked, or what the id names (an occurrence or a series)."""
    scope = scope or ("instance" if ref.recurrence else "series")
    if scope != "series" and ref.recurrence is None:
        raise InvalidEventError(
            f"scope {scope!r} needs the id of one occurrence (calendar:uid:20260309T090000Z); "
            "list_events gives occurrence ids"
        )
    if scope == "instance" and patch.recurrence is not None:
        raise InvalidEventError(
            "one occurrence has no recurrence rule of its own: use scope 'series' or 'following' "
            "to change the rule"
        )
    return scope


def shifted_patch(patch: EventPatch, master: Event, occurrence: Event | None) -> EventPatch:
    """`patch` as it applies to the series master: new times move it as far as they move `occurrence`."""
    if occurrence is None or (patch.start is None and patch.end is None):
        return patch
    start = patch.start if patch.start is not None else occurrence.start
    end = patch.end if patch.end is not None else start + (occurrence.end - occurrence.start)
    if isinstance(start, datetime) != isinstance(occurrence.start, datetime):
        raise InvalidEventError(
            "a series cannot change between all-day and timed through one occurrence: "
            "edit the series id (calendar:uid) with both start and end"
        )
    new_start = master.start + (start - occurrence.start)
    return patch.model_copy(update={"start": new_start, "end": new_start + (end - start)})


def original_start(like: date, key: str, zone: tzinfo) -> date:
    """The original start of the occurrence `key`, written as the series' DTSTART `like` is."""
    if len(key) == 8:
        return datetime.strptime(key, "%Y%m%d").date()
    moment = datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if not isinstance(like, datetime):
        return moment.astimezone(zone).date()
    if like.tzinfo is None:
        return moment.astimezone(zone).replace(tzinfo=None)
    return moment.astimezone(like.tzinfo)


def set_rule(component: Component, text: str, zone: tzinfo) -> None:
    """Give the series master the rule `text` (UNTIL fitted to its DTSTART)."""
    rule = fit_rule(_checked(text), component["DTSTART"].dt, zone)
    component.pop("RRULE", None)
    component.add("RRULE", rule)


def _checked(text: str) -> icalendar.vRecur:
    try:
        return parse_rule(text)
    except ValueError as exc:
        raise InvalidEventError(str(exc)) from None


def shift_exceptions(components: Iterable[Component], uid: str, delta: timedelta) -> None:
    """Move the RECURRENCE-IDs and EXDATEs of series `uid` by `delta`, after its DTSTART moved so.

    Without this, the overrides and exclusions of a series whose time changed would name
    occurrences that no longer exist, and the old times would come back. An override that kept
    its original time moves with the series; one moved elsewhere stays where it was put.
    """
    if not delta:
        return
    for component in components:
        if component.name != "VEVENT" or str(component.get("UID", "")) != uid:
            continue
        rid = component.get("RECURRENCE-ID")
        if rid is not None:
            component.pop("RECURRENCE-ID")
            component.add("RECURRENCE-ID", rid.dt + delta)
            if component["DTSTART"].dt == rid.dt:  # an occurrence changed but not moved moves along
                _move(component, delta)
        exdates = component.pop("EXDATE", None)
        for line in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
            component.add("EXDATE", [value.dt + delta for value in line.dts])


def _move(component: Component, delta: timedelta) -> None:
    for name in ("DTSTART", "DTEND"):
        if name in component:
            moment = component.pop(name).dt
            component.add(name, moment + delta)


def split_series(calendar: icalendar.Calendar, uid: str, key: str, zone: tzinfo) -> list[Component]:
    """End the series `uid` before occurrence `key`; return the new series that starts there.

    The old master keeps its earlier occurrences (its rule gets an UNTIL); the components returned
    (a new master and the overrides from `key` on) carry a new UID, and are not yet in any calendar.
    """
    master = find_component(calendar, uid, None)
    if master is None or "RRULE" not in master:
        raise EventNotFoundError(f"no series with UID {uid} and a recurrence rule in this calendar")
    at = original_start(master["DTSTART"].dt, key, zone)
    dtstart = master["DTSTART"].dt
    if sort_key(aware(at, zone), zone) <= sort_key(aware(dtstart, zone), zone):
        raise InvalidEventError(
            "that is the first occurrence, so 'this and following' is the whole series: use scope 'series'"
        )
    before, after = split_rule(master["RRULE"], dtstart, at)
    new_uid = f"{uuid.uuid4()}@pepper"
    successor = _successor(master, new_uid, at, after, zone)
    moved = _move_later_overrides(calendar, uid, new_uid, at, zone)
    master.pop("RRULE", None)
    master.add("RRULE", before)
    bump_sequence(master)
    return [successor, *moved]


def _successor(master: Component, new_uid: str, at: date, rule: icalendar.vRecur, zone: tzinfo) -> Component:
    successor = icalendar.Event()
    length = duration_of(master)
    for name, value in master.property_items(recursive=False):
        if name not in ("BEGIN", "END", "UID", "DTSTART", "DTEND", "DURATION", "SEQUENCE", "RRULE"):
            successor.add(name, value, encode=False)
    successor.add("UID", new_uid)
    successor.add("DTSTART", at)
    successor.add("DTEND", at + length)
    successor.add("RRULE", rule)
    successor.add("SEQUENCE", 0)
    successor.add("RELATED-TO", str(master["UID"]))
    _keep_exdates_from(successor, at, zone)
    return successor


def _keep_exdates_from(successor: Component, at: date, zone: tzinfo) -> None:
    """The new series keeps only the exclusions that fall on or after its start."""
    exdates = successor.pop("EXDATE", None)
    if exdates is None:
        return
    start = sort_key(aware(at, zone), zone)
    for line in exdates if isinstance(exdates, list) else [exdates]:
        kept = [v.dt for v in line.dts if sort_key(aware(v.dt, zone), zone) >= start]
        if kept:
            successor.add("EXDATE", kept)


def _move_later_overrides(
    calendar: icalendar.Calendar, uid: str, new_uid: str, at: date, zone: tzinfo
) -> list[Component]:
    start = sort_key(aware(at, zone), zone)
    moved = []
    for component in list(calendar.subcomponents):
        if component.name != "VEVENT" or str(component.get("UID", "")) != uid:
            continue
        rid = component.get("RECURRENCE-ID")
        if rid is not None and sort_key(aware(rid.dt, zone), zone) >= start:
            calendar.subcomponents.remove(component)
            component.pop("UID")
            component.add("UID", new_uid)
            moved.append(component)
    return moved
