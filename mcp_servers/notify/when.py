"""Reading the times people write: zones, moments, durations and rrule-like repeats.

Plain functions that raise `TimeInputError` with a message saying what was wrong and what to write
instead. Naive times are read in the given zone; everything returned is timezone-aware UTC. Repeats
accept friendly words (`daily`, `weekdays`, `every 2 hours`) or an RFC 5545 RRULE
(`FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4`); occurrences are computed in local wall time, so a daily 09:00
reminder stays at 09:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

__all__ = [
    "TimeInputError",
    "next_occurrence",
    "parse_duration",
    "parse_moment",
    "parse_repeat",
    "parse_zone",
    "quiet_hours_end",
]


class TimeInputError(ValueError):
    """A time, duration, zone or repeat that cannot be understood or is not acceptable."""


# The longest duration read (a century): anything longer overflows the dates it is added to.
MAX_DURATION = timedelta(days=36_525)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_WORD_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}
_FRIENDLY = {
    "hourly": "FREQ=HOURLY",
    "daily": "FREQ=DAILY",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
    "yearly": "FREQ=YEARLY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
}
_EVERY = re.compile(r"every\s+(\d+)?\s*(minute|hour|day|week|month)s?")
_EVERY_FREQ = {"minute": "MINUTELY", "hour": "HOURLY", "day": "DAILY", "week": "WEEKLY", "month": "MONTHLY"}


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
        raise TimeInputError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris' or 'UTC'"
        ) from exc


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date-time; a naive one is read in `zone`. Returned in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise TimeInputError(
            f"cannot read {text!r} as a time: use ISO 8601 such as '2026-12-01T09:00' "
            "or '2026-12-01T09:00+01:00'"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise TimeInputError(
            f"{text!r} is at the very edge of the calendar: give a time in years 2 to 9998"
        ) from None


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `1h30m`, `2d`, `10 minutes`, or ISO 8601 `PT10M`; must be positive."""
    cleaned = text.strip().lower()
    if cleaned.startswith("pt") or cleaned.startswith("p"):
        cleaned = cleaned.removeprefix("p").replace("t", "")
    for word, unit in _WORD_UNITS.items():
        cleaned = re.sub(rf"\s*{word}s?\b", unit, cleaned)
    cleaned = re.sub(r"\bmin\b|\bmins\b", "m", cleaned)
    parts = _DURATION_PART.findall(cleaned)
    if not parts or _DURATION_PART.sub("", cleaned).strip(" ,and"):
        raise TimeInputError(
            f"cannot read {text!r} as a duration: write e.g. '10m', '1h30m', '2d' or 'PT10M'"
        )
    seconds = sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)
    if seconds <= 0:
        raise TimeInputError(f"duration {text!r} must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise TimeInputError(f"duration {text!r} is longer than {MAX_DURATION.days} days: give a nearer time")
    return timedelta(seconds=seconds)


def parse_repeat(text: str) -> str:
    """The RRULE (without `RRULE:`) that `text` describes; validated."""
    cleaned = text.strip()
    lowered = cleaned.lower()
    if lowered in _FRIENDLY:
        rule = _FRIENDLY[lowered]
    elif match := _EVERY.fullmatch(lowered):
        interval = int(match.group(1) or 1)
        if interval < 1:
            raise TimeInputError(f"repeat {text!r} needs an interval of at least 1")
        rule = f"FREQ={_EVERY_FREQ[match.group(2)]};INTERVAL={interval}"
    else:
        rule = cleaned.removeprefix("RRULE:").upper()
        if "FREQ=" not in rule:
            raise TimeInputError(
                f"cannot read repeat {text!r}: use hourly, daily, weekly, weekdays, monthly, yearly, "
                "'every 2 hours', or an RRULE such as 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4'"
            )
    if "FREQ=SECONDLY" in rule:
        raise TimeInputError("repeat more often than once a minute is not supported")
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError) as exc:
        raise TimeInputError(f"invalid repeat rule {rule!r}: {exc}") from exc
    return rule


def next_occurrence(rule: str, anchor: datetime, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first occurrence of `rule` starting at `anchor` strictly after `after`, in UTC; None when done."""
    local_anchor = anchor.astimezone(zone).replace(tzinfo=None)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    found = rrulestr(rule, dtstart=local_anchor).after(local_after, inc=False)
    if found is None:
        return None
    result = found.replace(tzinfo=zone).astimezone(UTC)
    # A wall time skipped by a daylight-saving gap can map to an instant not after `after`.
    return result if result > after else next_occurrence(rule, anchor, zone, after + timedelta(hours=1))


def quiet_hours_end(now: datetime, zone: ZoneInfo, start: time | None, end: time | None) -> datetime | None:
    """When the quiet hours that `now` falls in end (UTC), or None outside quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    today_end = datetime.combine(local.date(), end, tzinfo=zone)
    if start < end:
        inside, until = start <= clock < end, today_end
    elif clock >= start:
        inside, until = True, datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    else:
        inside, until = clock < end, today_end
    return until.astimezone(UTC) if inside else None
