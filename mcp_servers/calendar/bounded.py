"""Bounds on expanding recurring events, so that no calendar file or server can make a listing hang.

Three caps, each noted in the listing it cuts: a series that repeats more often than hourly
(FREQ=SECONDLY, MINUTELY, or BYHOUR/BYMINUTE/BYSECOND lists that amount to it) is expanded from a
copy of its rule ending after `rrules.DENSE_COUNT` occurrences (`cap_dense_series`; the calendar
that edits write back keeps the rule as it was); one listing expands at most `MAX_EXPANDED`
occurrences over all series; and one listing spends at most `EXPANSION_SECONDS` expanding. The
time cap holds even inside a single series: dateutil walks a rule that can never match (say
FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) day by day up to the year 9999, about 20 s of pure Python, so
`collect` runs each series whose rule `rrules.may_run_long` under a trace function that raises once
the deadline has passed (the technique `bdb` uses to stop a program; it slows that expansion about
2x, hence not for every series); a series stopped that way is remembered and skipped by later
listings of the same parsed calendar.
"""

from __future__ import annotations

import copy
import itertools
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from types import FrameType
from typing import Any

import icalendar
from icalendar.cal import Component

from mcp_servers.calendar.rrules import DENSE_COUNT, capped_rule, may_run_long

__all__ = ["EXPANSION_SECONDS", "MAX_EXPANDED", "cap_dense_series", "collect"]

MAX_EXPANDED = 50_000
EXPANSION_SECONDS = 5.0
_QUERY_ERRORS = (ValueError, KeyError, TypeError, AttributeError, OverflowError, icalendar.InvalidCalendar)


class _OutOfTime(Exception):
    """Raised inside a series' expansion when the listing's deadline has passed."""


def cap_dense_series(calendar: icalendar.Calendar) -> tuple[icalendar.Calendar, list[str], set[str]]:
    """The calendar to expand: the same, except that each series denser than hourly is a copy whose
    rule ends after DENSE_COUNT occurrences; a note for each; and the UIDs of the series whose
    expansion needs a deadline (`may_run_long`). `calendar` is not changed."""
    notes: list[str] = []
    parts = []
    guarded: set[str] = set()
    for component in calendar.subcomponents:
        rules = component.get("RRULE") if component.name == "VEVENT" else None
        if rules is not None:
            rules = rules if isinstance(rules, list) else [rules]
            if _runs_long(component, rules):
                guarded.add(str(component.get("UID", "")))
            replaced = _capped_copy(component, rules)
            if replaced is not None:
                notes.append(
                    f"event {component.get('UID', '(no UID)')!s} repeats more often than once an hour: "
                    f"only its first {DENSE_COUNT:,} occurrences are listed"
                )
                component = replaced
        parts.append(component)
    if not notes:
        return calendar, notes, guarded
    expandable = copy.copy(calendar)  # shares the properties; only the list of components differs
    expandable.subcomponents = parts
    return expandable, notes, guarded


def _runs_long(event: Component, rules: list[Any]) -> bool:
    try:
        return any(may_run_long(rule, event["DTSTART"].dt) for rule in rules)
    except (KeyError, ValueError, TypeError, AttributeError):
        return True


def _capped_copy(event: Component, rules: list[Any]) -> Component | None:
    try:
        start = event["DTSTART"].dt
        capped = [capped_rule(rule, start) for rule in rules]
    except (KeyError, ValueError, TypeError, AttributeError):
        return None  # a broken rule: recurring_ical_events sets its series aside with a note
    if all(rule is None for rule in capped):
        return None
    replacement = copy.deepcopy(event)
    replacement.pop("RRULE")
    for original, rule in zip(rules, capped, strict=True):
        replacement.add("RRULE", rule if rule is not None else original)
    return replacement


def collect(
    all_series: Iterable[Any],
    window: tuple[datetime, datetime],
    limit: int,
    into: list[Any],
    guards: tuple[set[str], set[str]],
    notes: list[str],
) -> bool:
    """Add to `into` the occurrences of every series in `window`, `limit` per series, within the caps;
    a note for each series skipped or cut. True when occurrences may be missing (truncated).
    `guards`: the UIDs expanded under the deadline, and those that ran out of time before."""
    guarded, slow = guards
    deadline = time.monotonic() + EXPANSION_SECONDS
    truncated = False
    for series in all_series:
        uid = str(series.uid)
        if uid in slow:
            notes.append(f"series {uid} skipped: expanding it took longer than {EXPANSION_SECONDS:g} s")
            truncated = True
            continue
        if len(into) >= MAX_EXPANDED or time.monotonic() > deadline:
            notes.append(
                f"the listing stopped expanding recurring events after {len(into):,} occurrences "
                f"(at most {MAX_EXPANDED:,} or {EXPANSION_SECONDS:g} s): ask for a shorter window"
            )
            return True
        try:
            found = _expand(series, window, limit, deadline if uid in guarded else None)
        except _OutOfTime:
            slow.add(uid)
            notes.append(f"series {uid} skipped: expanding it took longer than {EXPANSION_SECONDS:g} s")
            return True
        except _QUERY_ERRORS as exc:
            notes.append(f"series {uid} skipped: {exc}")
            continue
        truncated |= len(found) > limit
        into.extend(found[:limit])
    return truncated


def _expand(series: Any, window: tuple[datetime, datetime], limit: int, deadline: float | None) -> list[Any]:
    """Up to `limit` + 1 occurrences; with a deadline, `_OutOfTime` at the first Python call after it."""
    if deadline is None:
        return list(itertools.islice(series.between(*window), limit + 1))

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        if time.monotonic() > deadline:
            raise _OutOfTime
        return None  # no line events: only calls are checked

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return list(itertools.islice(series.between(*window), limit + 1))
    finally:
        sys.settrace(previous)
