"""Dates and times in what the user says, resolved in the user's timezone from an injected `now`.

`find_when(text, now, language)` reads the day ("today", "tomorrow", "Friday", "next Friday", "on
the 14th", "March 25"), a range ("this week", "next week", "the next 3 days", "between Monday and
Wednesday"), a clock time ("at 3pm", "15:30", "noon", "at 9") or a part of the day ("tomorrow
afternoon", "this evening"), and delays ("in 2 hours", "for 30 minutes", "the last 2 hours").
Delays are counted in real time, so across a daylight-saving change the wall clock moves by one
hour more or less. `moment_of` turns what was found into the instant a reminder or snooze needs.
The words come from the language's tables (`lang/`); this module holds only the arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from orchestrator.conversation.lang import Language

__all__ = ["When", "find_when", "moment_of"]

ORDER = (
    "delay",
    "ago",
    "week_of",
    "range",
    "relative",
    "weekday",
    "month_day",
    "day_of_month",
    "clock",
    "part",
)


@dataclass(frozen=True)
class When:
    day: date | None = None
    until: date | None = None  # the last day of a range, included
    clock: str | None = None  # "HH:MM"
    part: str | None = None  # "morning", "afternoon", "evening"
    moment: datetime | None = None  # an exact instant (from a delay)
    spans: tuple[tuple[int, int], ...] = ()  # where in the text the words were

    @property
    def found(self) -> bool:
        return bool(self.day or self.clock or self.part or self.moment)

    def date_slot(self) -> str | None:
        if self.day is None:
            return None
        return f"{self.day.isoformat()}..{self.until.isoformat()}" if self.until else self.day.isoformat()

    def time_slot(self) -> str | None:
        return self.clock or self.part


@dataclass
class _Found:
    days: list[date]
    spans: list[tuple[int, int]]
    until: date | None = None
    clock: str | None = None
    part: str | None = None
    moment: datetime | None = None


def find_when(text: str, now: datetime, language: Language) -> When:
    """What `text` (lower case) says about when, read from `now` (aware, in the user's zone)."""
    masked = text
    found = _Found(days=[], spans=[])
    for kind in ORDER:
        for pattern in language.date_patterns[kind]:
            for match in list(pattern.finditer(masked)):
                if _apply(kind, match, now, language, found):
                    found.spans.append(match.span())
                    start, end = match.span()
                    masked = masked[:start] + " " * (end - start) + masked[end:]
    return _combine(found, text, language)


def _combine(found: _Found, text: str, language: Language) -> When:
    spans = tuple(sorted(found.spans))
    if found.moment is not None:
        local = found.moment
        return When(day=local.date(), clock=f"{local:%H:%M}", moment=local, spans=spans)
    day, until = (found.days[0] if found.days else None), found.until
    if until is None and len(found.days) == 2 and any(p.search(text) for p in language.date_patterns["span"]):
        day, until = found.days
        while until < day:
            until += timedelta(days=7)
    if until is not None and day is None:
        day = found.days[0] if found.days else None
    part = None if found.clock else found.part
    return When(day=day, until=until, clock=found.clock, part=part, spans=spans)


def _apply(kind: str, match: re.Match[str], now: datetime, language: Language, found: _Found) -> bool:
    canonical = language.canonical  # "próximo" → "next": the values this module knows
    groups = {
        key: canonical.get(value, value) for key, value in match.groupdict().items() if value is not None
    }
    today = now.date()
    if kind in ("delay", "ago"):
        seconds = language.units[groups["unit"]] * _count(groups, language)
        sign = -1 if kind == "ago" else 1
        found.moment = (now.astimezone(UTC) + sign * timedelta(seconds=seconds)).astimezone(now.tzinfo)
        return True
    if kind == "week_of":
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        found.days.append(monday + timedelta(days=language.weekdays[groups["wd"]]))
        return True
    if kind == "range":
        return _range(groups, today, language, found)
    if kind == "relative":
        return _relative(groups, today, found)
    if kind == "weekday":
        found.days.append(_weekday(language.weekdays[groups["wd"]], groups.get("dir"), today))
        return True
    if kind in ("month_day", "day_of_month"):
        day = _day_of(today, int(groups["day"]), language.months.get(groups.get("mo", "")))
        if day is not None:
            found.days.append(day)
        return day is not None
    if kind == "clock":
        return _clock(groups, found)
    if found.part is None:
        found.part = groups["part"]
    return True


def _count(groups: dict[str, str], language: Language) -> float:
    if "half" in groups:
        return 0.5
    number = groups.get("n", "1")
    return int(number) if number.isdigit() else language.numbers[number]


def _range(groups: dict[str, str], today: date, language: Language, found: _Found) -> bool:
    monday = today - timedelta(days=today.weekday())
    if "days" in groups:
        count = int(groups["days"]) if groups["days"].isdigit() else language.numbers[groups["days"]]
        start, end = today, today + timedelta(days=max(count, 1) - 1)
    elif "this_month" in groups:
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        start, end = today, following - timedelta(days=1)
    else:
        starts = {
            "this_week": (today, monday + timedelta(days=6)),
            "next_week": (monday + timedelta(days=7), monday + timedelta(days=13)),
            "this_weekend": (max(today, monday + timedelta(days=5)), monday + timedelta(days=6)),
            "next_weekend": (monday + timedelta(days=12), monday + timedelta(days=13)),
        }
        start, end = next(starts[key] for key in starts if key in groups)
    found.days.insert(0, start)
    found.until = end
    return True


def _relative(groups: dict[str, str], today: date, found: _Found) -> bool:
    offsets = {
        "after_tomorrow": 2,
        "tomorrow": 1,
        "today": 0,
        "tonight": 0,
        "yesterday": -1,
        "last_night": -1,
    }
    key = next((key for key in offsets if key in groups), None)
    found.days.append(today + timedelta(days=offsets[key] if key else 0))
    if key in ("tonight", "last_night"):
        found.part = "evening"
    elif "part" in groups:
        found.part = groups["part"]
    return True


def _weekday(weekday: int, direction: str | None, today: date) -> date:
    ahead = (weekday - today.weekday()) % 7
    if direction == "next":  # the day of that name in next week (weeks start on Monday)
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday)
    if direction in ("since", "last"):
        return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
    return today + timedelta(days=ahead)


def _day_of(today: date, day: int, month: int | None) -> date | None:
    """The next `day` of `month` (or of any month, when none is said), today included."""
    for step in range(0, 14):
        year, month_index = divmod(today.month - 1 + (0 if month else step), 12)
        candidate_month = month or month_index + 1
        candidate_year = today.year + year + (step if month else 0)
        try:
            candidate = date(candidate_year, candidate_month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _clock(groups: dict[str, str], found: _Found) -> bool:
    if found.clock is not None:
        return False
    if "noon" in groups:
        found.clock = "00:00" if groups["noon"] == "midnight" else "12:00"
        return True
    hour, minute = int(groups["h"]), int(groups.get("min", "0"))
    marker = groups.get("ap", "").replace(".", "")
    if marker:
        if not 1 <= hour <= 12:
            return False
        hour = hour % 12 + (12 if marker == "pm" else 0)
    elif "min" not in groups and hour < 7:
        hour += 12  # "at 3" is read between 07:00 and 18:59
    if hour > 23 or minute > 59:
        return False
    found.clock = f"{hour:02d}:{minute:02d}"
    return True


def moment_of(when: When, now: datetime, language: Language, default_clock: str = "09:00") -> datetime | None:
    """The instant `when` names, in `now`'s zone: a delay's end; a day at its clock time or part of
    the day (else `default_clock`); a clock time alone is today's, or tomorrow's once it has passed."""
    if when.moment is not None:
        return when.moment
    clock = when.clock or (language.part_hours.get(when.part or "") if when.part else None)
    if when.day is None and clock is None:
        return None
    hour, minute = (int(part) for part in (clock or default_clock).split(":"))
    day = when.day or now.date()
    moment = datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)
    if when.day is None and moment <= now:
        moment = datetime.combine(day + timedelta(days=1), time(hour, minute), tzinfo=now.tzinfo)
    return moment
