"""Quick-add: an event from one line of English ("Lunch with Dana tomorrow at 1pm at Cafe Roma").

`read_quick_add(text, now)` finds the day ("today", "tonight", "tomorrow", "the day after
tomorrow", "Friday", "next Friday", "in 3 days", "on the 14th", "Dec 14", "14 December",
"2026-12-14"), the time or time range ("at 3pm", "15:30", "noon", "3-4pm", "from 2 to 3:30pm"),
a length ("for 2 hours", "for 45 min", "for half an hour") and a place ("at Cafe Roma", "@ Room 4"),
all in the user's timezone (`now` carries it); what is left is the title. A day without a time is an
all-day event; a time without a day is its next occurrence; a day of the month or a date already
past is the next one. Without a length or an end, an event lasts an hour. Text it cannot place
(nothing saying when, an end before the start) is an `InvalidEventError` that says what to write.
Invitations are not read from the text: an event with attendees is made with create_event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mcp_servers.calendar.errors import InvalidEventError

__all__ = ["MAX_QUICK_ADD_CHARS", "QuickEvent", "read_quick_add"]

MAX_QUICK_ADD_CHARS = 500
DEFAULT_LENGTH = timedelta(hours=1)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")  # fmt: skip
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY_NUMBER = r"(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![:\d])"
_CLOCK = r"(?:(?P<{0}h>[01]?\d|2[0-3])(?::(?P<{0}m>[0-5]\d))?\s*(?P<{0}ap>a\.?m\.?|p\.?m\.?)?|(?P<{0}word>noon|midnight))"
_START, _END = _CLOCK.format("s"), _CLOCK.format("e")

DAY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("iso", r"\b(?:on\s+)?(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        ("after_tomorrow", r"\b(?:the\s+)?day\s+after\s+tomorrow\b"),
        ("relative", r"\b(?P<word>today|tonight|tomorrow|tmrw|tmr)\b"),
        ("in_days", r"\bin\s+(?P<n>\d{1,3}|a|one|two|three|four|five|six|seven)\s+(?P<unit>days?|weeks?)\b"),
        (
            "weekday",
            r"\b(?:on\s+)?(?P<next>next\s+|this\s+)?(?P<weekday>mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\b",
        ),
        ("month_day", rf"\b(?:on\s+)?{_MONTH}\s+{_DAY_NUMBER}(?:,?\s+(?P<year>\d{{4}}))?\b"),
        (
            "day_month",
            rf"\b(?:on\s+)?(?:the\s+)?{_DAY_NUMBER}\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b",
        ),
        ("day_of_month", r"\b(?:on\s+)?the\s+(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b"),
    )
)
TIME_RANGE = re.compile(
    rf"\b(?:from\s+|between\s+)?{_START}\s*(?:-|–|to|until|till|and)\s*{_END}(?![\w:])", re.IGNORECASE
)
TIME_AT = re.compile(rf"(?:\bat\s+|@\s*|\b)(?P<whole>{_START})(?![\w:])", re.IGNORECASE)
LENGTH = re.compile(
    r"\bfor\s+(?:(?P<half>half\s+an?\s+hour)|(?P<n>\d+(?:\.\d+)?|an?|one|two|three)\s*(?P<unit>h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|d(?:ays?)?)\b)",
    re.IGNORECASE,
)
PLACE = re.compile(
    r"(?:\s+at\s+|\s*@\s*)(?P<place>(?:[A-Z0-9][\w'&.-]*)(?:\s+(?:[A-Z0-9][\w'&.-]*|of|the|de|du))*)\s*$"
)
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


@dataclass(frozen=True)
class QuickEvent:
    title: str
    start: date | datetime  # a date: all day
    end: date | datetime
    location: str | None = None


def _number(text: str) -> float:
    return float(NUMBERS.get(text.lower(), text))


def _clock(match: re.Match[str], prefix: str, pm_hint: str | None = None) -> tuple[time, str | None]:
    word = match.group(f"{prefix}word")
    if word:
        return (time(12) if word.lower() == "noon" else time(0)), None
    hour, minute = int(match.group(f"{prefix}h")), int(match.group(f"{prefix}m") or 0)
    meridiem = (match.group(f"{prefix}ap") or pm_hint or "").lower().replace(".", "") or None
    if meridiem and hour > 12:
        raise InvalidEventError(f"{match.group(0).strip()!r} is not a time: a 12-hour clock stops at 12")
    if meridiem is None and match.group(f"{prefix}m") is None and 1 <= hour <= 7:
        meridiem = "pm"  # "at 3": people meet at 3 in the afternoon, not at night
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    return time(hour, minute), meridiem


def _next_date(today: date, month: int, day: int, year: str | None) -> date:
    try:
        if year:
            return date(int(year), month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError as exc:
        raise InvalidEventError(f"there is no {MONTHS[month - 1].title()} {day}") from exc


def _month(text: str) -> int:
    return next(n for n, name in enumerate(MONTHS, 1) if name.startswith(text.lower().rstrip(".")[:3]))


def _day(kind: str, match: re.Match[str], today: date) -> date:
    if kind == "iso":
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError as exc:
            raise InvalidEventError(f"{match.group(0).strip()} is not a date") from exc
    if kind == "after_tomorrow":
        return today + timedelta(days=2)
    if kind == "relative":
        return today + timedelta(days=0 if match["word"].lower() in ("today", "tonight") else 1)
    if kind == "in_days":
        return today + timedelta(
            days=int(_number(match["n"])) * (7 if match["unit"].lower().startswith("week") else 1)
        )
    if kind == "weekday":
        wanted = next(n for n, name in enumerate(WEEKDAYS) if name.startswith(match["weekday"].lower()[:3]))
        ahead = (wanted - today.weekday()) % 7
        return today + timedelta(
            days=ahead
            + (7 if match["next"] and match["next"].lower().startswith("next") and ahead == 0 else 0)
        )
    if kind in ("month_day", "day_month"):
        return _next_date(today, _month(match["month"]), int(match["day"]), match["year"])
    day = int(match["day"])  # day_of_month: this month's, or next month's when it has passed
    month, year = (
        (today.month, today.year)
        if day >= today.day
        else (today.month % 12 + 1, today.year + (today.month == 12))
    )
    return _next_date(today, month, day, str(year))


class _Text:
    """The text with each part taken out once it is read, so the rest is the title."""

    def __init__(self, text: str) -> None:
        self.rest = text

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return self.take_first(pattern, lambda _: True)

    def take_first(
        self, pattern: re.Pattern[str], accept: Callable[[re.Match[str]], bool]
    ) -> re.Match[str] | None:
        match = next((m for m in pattern.finditer(self.rest) if accept(m)), None)
        if match is not None:
            self.rest = (self.rest[: match.start()] + " " + self.rest[match.end() :]).strip()
        return match


def _is_time(match: re.Match[str]) -> bool:
    """ "at 3", "3pm", "15:30", "noon" are times; a bare number ("Room 4") is not."""
    said = match.group(0).lower()
    return bool(match["sap"] or match["sm"] or match["sword"] or said.startswith(("at", "@")))


def read_quick_add(text: str, now: datetime) -> QuickEvent:
    """The event `text` describes, read in `now`'s timezone; see the module docstring."""
    line = " ".join(text.split())
    if not line:
        raise InvalidEventError("text is empty: describe the event, e.g. 'Lunch with Dana tomorrow at 1pm'")
    if len(line) > MAX_QUICK_ADD_CHARS:
        raise InvalidEventError(
            f"text is {len(line)} characters; quick add reads at most {MAX_QUICK_ADD_CHARS}"
        )
    rest = _Text(line)
    day = next(((kind, m) for kind, pattern in DAY_PATTERNS if (m := rest.take(pattern))), None)
    start_time = end_time = None
    if (span := rest.take(TIME_RANGE)) is not None:
        end_time, meridiem = _clock(span, "e")
        start_time, _ = _clock(span, "s", meridiem if not span["sap"] and not span["sword"] else None)
        if start_time >= end_time and meridiem == "pm" and not span["sap"]:
            start_time = _clock(span, "s", "am")[0]
    elif (at := rest.take_first(TIME_AT, _is_time)) is not None:
        start_time, _ = _clock(at, "s")
    length = rest.take(LENGTH)
    place = PLACE.search(rest.rest)
    location = place["place"] if place else None
    if place is not None:
        rest.rest = rest.rest[: place.start()]
    rest.rest = " ".join(rest.rest.split())
    title = re.sub(r"^(?:on|at|from)\s+|\s+(?:on|at|from)$|[\s,;:–-]+$", "", rest.rest.strip(" ,;:-")).strip()
    if day is None and start_time is None:
        raise InvalidEventError(
            f"found no day or time in {line!r}: say when, e.g. 'tomorrow at 3pm', 'Friday 10-11am', 'on Dec 14'"
        )
    if not title:
        raise InvalidEventError(
            f"found no title in {line!r}: say what the event is, e.g. 'Dentist tomorrow at 9am'"
        )
    return _event(title[0].upper() + title[1:], day, start_time, end_time, length, location, now)


def _event(title: str, day: tuple[str, re.Match[str]] | None, start_time: time | None, end_time: time | None,
           length: re.Match[str] | None, location: str | None, now: datetime) -> QuickEvent:  # fmt: skip
    today = now.date()
    on = _day(*day, today) if day is not None else None
    if start_time is None:
        if day is not None and day[1].group(0).lower().strip() == "tonight":
            start_time = time(19)
        else:
            assert on is not None
            days = 1 if length is None else max(1, round(_length(length) / timedelta(days=1)))
            return QuickEvent(title, on, on + timedelta(days=days), location)
    if on is None:  # a time alone: its next occurrence
        on = today if datetime.combine(today, start_time, now.tzinfo) > now else today + timedelta(days=1)
    start = datetime.combine(on, start_time, now.tzinfo)
    if end_time is not None:
        end = datetime.combine(on, end_time, now.tzinfo)
        if end <= start:
            raise InvalidEventError(
                f"the event would end ({end_time:%H:%M}) before it starts ({start_time:%H:%M})"
            )
    else:
        end = start + (_length(length) if length is not None else DEFAULT_LENGTH)
    return QuickEvent(title, start, end, location)


def _length(match: re.Match[str]) -> timedelta:
    if match["half"]:
        return timedelta(minutes=30)
    amount = _number(match["n"])
    unit = match["unit"].lower()[0]
    length = timedelta(**{{"h": "hours", "m": "minutes", "d": "days"}[unit]: amount})
    if not timedelta(minutes=1) <= length <= timedelta(days=14):
        raise InvalidEventError(f"{match.group(0)!r}: an event lasts from a minute to 14 days")
    return length
