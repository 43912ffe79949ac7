"""Recurrence rules as text: checking an RRULE a caller wrote, and cutting a series in two at a date.

`normalize_rule` reads `FREQ=WEEKLY;INTERVAL=2` (with or without the `RRULE:` prefix) and either
returns it in canonical form or raises a `ValueError` that says what is wrong with it. `fit_rule`
makes a rule's UNTIL the kind of value its series' DTSTART is (RFC 5545: a date for all-day
series, UTC for zoned times, floating for floating ones). `split_rule` ends a rule before one
occurrence and gives the rule of the rest (COUNT reduced by the occurrences already past).
`mean_gap` estimates the average time between occurrences: a rule a caller writes must leave at
least `MIN_GAP` (an hour) between them on average (`normalize_rule` refuses FREQ=SECONDLY, MINUTELY and the
like, which would make every listing expand millions of occurrences), and `capped_rule` bounds a
denser rule read from a file or a server to `DENSE_COUNT` occurrences.
Plain functions over `icalendar.vRecur` and `dateutil`, shared by every provider.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import icalendar
from dateutil.rrule import rrulestr

__all__ = [
    "DENSE_COUNT",
    "MIN_GAP",
    "capped_rule",
    "fit_rule",
    "may_run_long",
    "normalize_rule",
    "parse_rule",
    "mean_gap",
    "split_rule",
]

_EXAMPLE = "write one like FREQ=WEEKLY;INTERVAL=2;COUNT=10 or FREQ=DAILY;UNTIL=20260630"
_COUNT_LIMIT = 100_000  # counting occurrences before a split date never walks further than this
MIN_GAP = timedelta(hours=1)
DENSE_COUNT = 50_000  # a series denser than MIN_GAP read from a file ends after this many occurrences
# Seconds in each FREQ's period (months and years at their shortest), finest first.
_PERIODS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3_600,
    "DAILY": 86_400,
    "WEEKLY": 604_800,
    "MONTHLY": 2_419_200,
    "YEARLY": 31_536_000,
}
# A BYxxx part multiplies the occurrences of a period only when it is finer than the FREQ.
_EXPANDING = (("BYSECOND", "SECONDLY"), ("BYMINUTE", "MINUTELY"), ("BYHOUR", "HOURLY"))


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
    """`text` in canonical form (no prefix), for a pydantic validator; None stays None.

    Refuses rules that repeat more often than once an hour (see `mean_gap`)."""
    if text is None:
        return None
    rule = parse_rule(text)
    gap = mean_gap(rule)
    if gap < MIN_GAP:
        raise ValueError(
            f"{text!r} repeats every {_spoken(gap)}: calendar events may repeat at most once an hour; "
            "use FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY (a reminder server suits finer repeats)"
        )
    return rule.to_ical().decode()


def mean_gap(rule: icalendar.vRecur) -> timedelta:
    """The average time between occurrences, which sets how many a year brings: the rule's FREQ
    times its INTERVAL, divided by what BYHOUR, BYMINUTE and BYSECOND add (when finer than the FREQ)."""
    freq = str(rule["FREQ"][0]).upper()
    period = _PERIODS.get(freq, _PERIODS["YEARLY"]) * int(rule.get("INTERVAL", [1])[0] or 1)
    finer = list(_PERIODS)[: list(_PERIODS).index(freq)] if freq in _PERIODS else list(_PERIODS)
    per_period = 1
    for part, unit in _EXPANDING:
        if unit in finer:
            per_period *= max(len(rule.get(part, [])), 1)
    return timedelta(seconds=period / per_period)


def capped_rule(rule: icalendar.vRecur, dtstart: date) -> icalendar.vRecur | None:
    """For a rule denser than `MIN_GAP`, a copy that ends after at most `DENSE_COUNT` occurrences
    (its UNTIL kept when that comes first); None when the rule needs no cap."""
    gap = mean_gap(rule)
    if gap >= MIN_GAP:
        return None
    capped = icalendar.vRecur(dict(rule))
    if "COUNT" in rule:
        capped["COUNT"] = [min(int(rule["COUNT"][0]), DENSE_COUNT)]
        return capped
    until = rule.get("UNTIL", [None])[0]
    if until is not None and _span(dtstart, until) <= gap * DENSE_COUNT:
        return None
    capped.pop("UNTIL", None)
    capped["COUNT"] = [DENSE_COUNT]
    return capped


_RESTRICTING = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS")
_ANCIENT = 1900


def may_run_long(rule: icalendar.vRecur, dtstart: date) -> bool:
    """Whether expanding `rule` could take long whatever the window: dateutil walks every period from
    DTSTART, also periods that a filter rejects (a rule that never matches walks to the year 9999).
    So: hourly or denser rules, filtered rules finer than yearly, and series from before 1900."""
    freq = str(rule["FREQ"][0]).upper()
    if mean_gap(rule) <= MIN_GAP or dtstart.year < _ANCIENT:
        return True
    return freq != "YEARLY" and any(part in rule for part in _RESTRICTING)


def _span(start: date, until: date) -> timedelta:
    begin = start if isinstance(start, datetime) else datetime.combine(start, time())
    end = until if isinstance(until, datetime) else datetime.combine(until, time())
    if (begin.tzinfo is None) != (end.tzinfo is None):
        begin, end = begin.replace(tzinfo=None), end.replace(tzinfo=None)
    return end - begin


def _spoken(gap: timedelta) -> str:
    seconds = gap.total_seconds()
    if seconds < 60:
        return f"{seconds:g} second(s)"
    return f"{seconds / 60:g} minute(s)"


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
