"""Recurrence rules as text: checking an RRULE a caller wrote, and cutting a series in two at a date.

`normalize_rule` reads `FREQ=WEEKLY;INTERVAL=2` (with or without the `RRULE:` prefix) and either
returns it in canonical form or raises a `ValueError` that says what is wrong with it. `fit_rule`
makes a rule's UNTIL the kind of value its series' DTSTART is (RFC 5545: a date for all-day
series, UTC for zoned times, floating for floating ones). `split_rule` ends a rule before one
occurrence and gives the rule of the rest (COUNT reduced by the occurrences already past).
Plain functions over `icalendar.vRecur` and `dateutil`, shared by every provider.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import icalendar
from dateutil.rrule import rrulestr

__all__ = ["fit_rule", "normalize_rule", "parse_rule", "split_rule"]

_EXAMPLE = "write one like FREQ=WEEKLY;INTERVAL=2;COUNT=10 or FREQ=DAILY;UNTIL=20260630"
_COUNT_LIMIT = 100_000  # counting occurrences before a split date never walks further than this


def parse_rule(text: str) -> icalendar.vRecur:
    """The rule in `text`; a `ValueError` that names the problem when it is not a usable RRULE."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body:
        raise ValueError(f"the recurrence rule is empty: {_EXAMPLE}")
    try:
        rule = icalendar.vRecur.from_ical(body)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid RRULE ({exc}): {_EXAMPLE}") from None
    if "FREQ" not in rule:
        raise ValueError(f"{text!r} is not a valid RRULE (FREQ is missing): {_EXAMPLE}")
    if "COUNT" in rule and "UNTIL" in rule:
        raise ValueError(f"{text!r} has both COUNT and UNTIL; an RRULE may have one of them: {_EXAMPLE}")
    if "COUNT" in rule and int(rule["COUNT"][0]) < 1:
        raise ValueError(f"{text!r}: COUNT must be at least 1")
    until = rule.get("UNTIL", [None])[0]
    zoned = isinstance(until, datetime) and until.tzinfo is not None
    try:  # dateutil checks what icalendar does not (BYxxx ranges, ...); it wants DTSTART like UNTIL
        rrulestr(rule.to_ical().decode(), dtstart=datetime(2026, 1, 1, tzinfo=UTC if zoned else None))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{text!r} is not a valid RRULE ({exc}): {_EXAMPLE}") from None
    return rule


def normalize_rule(text: str | None) -> str | None:
    """`text` in canonical form (no prefix), for a pydantic validator; None stays None."""
    if text is None:
        return None
    return parse_rule(text).to_ical().decode()


def fit_rule(rule: icalendar.vRecur, dtstart: date, zone: tzinfo) -> icalendar.vRecur:
    """A copy of `rule` whose UNTIL has the value type RFC 5545 asks for, given the series' DTSTART."""
    fitted = icalendar.vRecur(dict(rule))
    if "UNTIL" not in fitted:
        return fitted
    until = fitted["UNTIL"][0]
    if not isinstance(dtstart, datetime):
        fitted["UNTIL"] = [until.date() if isinstance(until, datetime) else until]
        return fitted
    if not isinstance(until, datetime):  # a day: the series may run until that day ends
        local_zone = dtstart.tzinfo or zone
        until = datetime.combine(until, time(23, 59, 59), tzinfo=local_zone)
    elif until.tzinfo is None:
        until = until.replace(tzinfo=dtstart.tzinfo or zone)
    fitted["UNTIL"] = [until.astimezone(UTC) if dtstart.tzinfo else until.replace(tzinfo=None)]
    return fitted


def split_rule(rule: icalendar.vRecur, dtstart: date, at: date) -> tuple[icalendar.vRecur, icalendar.vRecur]:
    """The rule ending just before the occurrence `at`, and the rule of `at` and what follows it."""
    before = icalendar.vRecur({key: value for key, value in rule.items() if key not in ("COUNT", "UNTIL")})
    after = icalendar.vRecur(dict(rule))
    if isinstance(dtstart, datetime):
        last = at - timedelta(seconds=1)
        before["UNTIL"] = [last.astimezone(UTC) if last.tzinfo else last]
    else:
        before["UNTIL"] = [at - timedelta(days=1)]
    if "COUNT" in rule:
        past = _occurrences_before(rule, dtstart, at)
        after["COUNT"] = [max(int(rule["COUNT"][0]) - past, 1)]
    return before, after


def _occurrences_before(rule: icalendar.vRecur, dtstart: date, at: date) -> int:
    start = dtstart if isinstance(dtstart, datetime) else datetime.combine(dtstart, time())
    limit = at if isinstance(at, datetime) else datetime.combine(at, time())
    count = 0
    for moment in rrulestr(rule.to_ical().decode(), dtstart=start):
        if moment >= limit or count >= _COUNT_LIMIT:
            break
        count += 1
    return count
