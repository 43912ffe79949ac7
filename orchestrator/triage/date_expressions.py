"""Date expressions read at one place in folded mail text, relative to when the mail was sent.

`read_date(text, pos, now, past)` reads the expression that starts at `pos` ("Friday", "tomorrow
5pm", "EOD", "end of next week", "the 14th", "Dec 3", "3 December", "12/03", "2026-07-06", "17:00
today") in any language of `deadline_words`, and returns its date, time and where it ends; `None`
when no date starts there. Nothing is guessed from a bare number: "24", "0.01", "1-3" and "2.4.1"
are not dates, nor "0800" a time. A date without a year is the next one (the last one when `past`:
"was due Monday"). A numeric date whose day and month could swap is read both ways: the one that
falls in the window of a deadline wins, and if both do, the nearer only when it is near.
`read_span` reads "3 days", "48 hours", "two weeks" after "within". The text must be folded with
`fold` (lower case, accents off, same length) so positions map back to the original.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from orchestrator.triage.deadline_words import LANGUAGES

__all__ = ["Reading", "fold", "in_window", "read_date", "read_span", "read_time"]

HORIZON = timedelta(days=366)  # a deadline further ahead is not plausible
PAST_HORIZON = timedelta(days=92)  # "was due on ..." reaches back this far at most
NEAR = timedelta(days=62)  # a day/month-ambiguous date is read only if its nearer reading is this near
END_OF_DAY = time(23, 59)
CLOSE_OF_BUSINESS = time(17, 0)
FRIDAY = 4


class Reading(NamedTuple):
    day: date
    at: time | None
    end: int
    named: bool = True  # False: only a time was written ("by 5pm"), the day is the mail's own


def fold(text: str) -> str:
    """Lower case without accents, one character for each of `text`'s (so positions carry over)."""
    return "".join(unicodedata.normalize("NFKD", char)[:1] or char for char in text.lower())


def _merged(name: str) -> dict:
    merged: dict = {}
    for language in LANGUAGES:
        merged |= getattr(language, name)
    return merged


def _words(name: str) -> set[str]:
    return {word for language in LANGUAGES for word in getattr(language, name)}


def alternation(words: set[str] | dict) -> str:
    """A regex alternation of `words`, longest first, spaces matching any run of spaces."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered)


WEEKDAYS, MONTHS, DAYS = _merged("weekdays"), _merged("months"), _merged("days")
UNITS, NUMBERS, TIME_WORDS = _merged("units"), _merged("numbers"), _merged("times")
WD, MON, REL = alternation(WEEKDAYS), alternation(MONTHS), alternation(DAYS)
NEXT, WEEK = alternation(_words("next_words")), alternation(_words("week"))
MONTH_WORDS, YEAR_WORDS = alternation(_words("month")), alternation(_words("year"))
END = alternation(_words("end_of"))
HOUR_WORD = alternation(_words("hour_words"))
NOT_AFTER = r"(?![\w/-]|[.,:]\d)"  # a number that goes on ("2.4.19", "1-3", "3/4/5x") is not a date

TIME = re.compile(
    rf"(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}}))?\s*(?P<ap>[ap])\.?m\b\.?"
    rf"|(?P<h2>\d{{1,2}}):(?P<m2>\d{{2}})(?![\d:])"
    rf"|(?P<h3>\d{{1,2}})\s*(?:{HOUR_WORD})(?P<m3>\d{{2}})?(?!\w)"
    rf"|(?P<word>{alternation(TIME_WORDS)})\b"
)
CONNECTOR = re.compile(r"\s*,?\s*(?:at|um|a las|a la|a|alle|om|on|am|le|el)?\s*")
ISO = re.compile(rf"(\d{{4}})([-/])(\d{{1,2}})\2(\d{{1,2}}){NOT_AFTER}")
DOTTED = re.compile(
    rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}|\d{{2}}){NOT_AFTER}|(\d{{2}})\.(\d{{2}})\.(?![\w.])"
)
NUMERIC = re.compile(
    rf"(\d{{1,2}})/(\d{{1,2}})(?:/(\d{{4}}|\d{{2}}))?{NOT_AFTER}(?!\s*(?:of\b|%|percent))"
    rf"|(\d{{1,2}})-(\d{{1,2}})-(\d{{4}}|\d{{2}}){NOT_AFTER}"
)
DAY_MONTH = re.compile(
    rf"(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:(?:of|de)\s+)?({MON})\b\.?(?:,?\s+(?:de\s+)?(\d{{4}})\b)?"
)
MONTH_DAY = re.compile(rf"({MON})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\w:]|[.,]\d)(?:,?\s+(\d{{4}})\b)?")
ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th)\b(?:\s+of\s+(?:this|the|(?P<next>next))\s+month)?")
# "le 14", "el 14", "il 14", "dia 14", "zum 14.": after an article a bare day of the month is a date
ARTICLE = re.compile(r"(?<![\w'])(?:le|el|del|il|dia|o|zum|am|den)\s*$")
ARTICLE_DAY = re.compile(r"(\d{1,2})(?:\.(?!\d)|(?!\d|[.,:/-]\d|\s*(?:%|[a-z])))")
THIS = r"this\s+coming|this|coming|kommenden|kommender|diesen|ce|este|esta|questo|deze"
WEEKDAY = re.compile(
    rf"(?:(?P<pre>{NEXT}|{THIS}|last)\s+)?(?P<wd>{WD})\b\.?(?P<post>\s+(?:of\s+)?(?:{NEXT})(?:\s+(?:{WEEK}))?\b)?"
)
WEEKEND = re.compile(rf"(?:(?P<next>{NEXT})\s+|this\s+)?(?:weekend|week-end|wochenende)\b")
SATURDAY = 5
RELATIVE = re.compile(rf"(?:{REL})(?![\w-])")
END_OF_DAY_WORDS = re.compile(
    rf"(?:eod|cob|eob|close of (?:business|play)|end of (?:the\s+)?(?:business\s+|working\s+)?day"
    rf"|end of (?:business|play))\b(?:\s+(?:on\s+)?(?P<day>{REL}|{WD})\b)?"
    rf"|end of (?P<named>{REL}|{WD})\b"
)
END_OF_PERIOD = re.compile(
    rf"(?:eo(?P<short>[wmy])\b|(?P<short2>week|month|quarter|year)[- ]end\b|(?:{END})\s+(?:(?:the|this|la|de la|del|der|dieser|des)\s+)?(?:(?P<pre>{NEXT})\s+)?"
    rf"(?:(?P<week>{WEEK})|(?P<month>{MONTH_WORDS})|(?P<year>{YEAR_WORDS})|(?P<q>q[1-4]|(?:the\s+)?quarter))\b"
    rf"(?:\s+(?P<post>{NEXT})\b)?)"
)
SPAN = re.compile(
    rf"(?:the\s+)?(?:next\s+)?(?P<n>\d{{1,3}}|{alternation(NUMBERS)})\s+(?:(?P<biz>business|working)\s+)?"
    rf"(?P<unit>{alternation(UNITS)})\b"
)


def in_window(day: date, now: datetime, past: bool) -> bool:
    """Whether `day` is a plausible deadline for mail sent at `now`: from today to a year ahead, or
    within the last three months for a deadline that was (`past`)."""
    today = now.date()
    if past:
        return today - PAST_HORIZON <= day <= today
    return today <= day <= today + HORIZON


def _safe(year: int, month: int, day: int) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]):
        return None
    return date(year, month, day)


def _year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _yearless(month: int, day: int, today: date, past: bool) -> date | None:
    """The next `day` of `month` (the last one when `past`)."""
    for year in (today.year, today.year - 1 if past else today.year + 1):
        found = _safe(year, month, day)
        if found and (found <= today if past else found >= today):
            return found
    return None


def _dated(month: int, day: int, year: str | None, today: date, past: bool) -> date | None:
    return _safe(_year(year), month, day) if year else _yearless(month, day, today, past)


def _numeric(m: re.Match, now: datetime, past: bool) -> date | None:
    first, second, year = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
    a, b = int(first), int(second)
    readings = {_dated(a, b, year, now.date(), past), _dated(b, a, year, now.date(), past)}
    fits = sorted((d for d in readings if d and in_window(d, now, past)), key=lambda d: abs(d - now.date()))
    if len(fits) == 1 or (fits and abs(fits[0] - now.date()) <= NEAR):
        return fits[0]
    return None


def _weekday(m: re.Match, today: date, past: bool) -> date:
    wd = WEEKDAYS[re.sub(r"\s+", " ", m["wd"])]
    if m["pre"] == "last":
        return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    if m["post"] or (m["pre"] and not re.fullmatch(THIS, m["pre"])):
        return today + timedelta(days=7 - today.weekday() + wd)  # in the next calendar week
    if past:
        return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    return today + timedelta(days=(wd - today.weekday()) % 7 or 7)


def _end_of_period(m: re.Match, today: date) -> date:
    ahead = bool(m["pre"] or m["post"])
    short = (m["short"] or m["short2"] or "")[:1]
    if short == "w" or m["week"]:
        friday = today + timedelta(days=(FRIDAY - today.weekday()) % 7)
        return friday + timedelta(days=7 * ahead) if today.weekday() <= FRIDAY else friday
    if short == "m" or m["month"]:
        year, month = divmod(today.year * 12 + today.month - 1 + ahead, 12)
        return date(year, month + 1, monthrange(year, month + 1)[1])
    if short == "y" or m["year"]:
        return date(today.year + ahead, 12, 31)
    named = re.fullmatch(r"q[1-4]", m["q"] or "")
    quarter = int(named[0][1]) if named else (today.month - 1) // 3 + 1
    end = date(today.year, quarter * 3, monthrange(today.year, quarter * 3)[1])
    return end if end >= today else date(today.year + 1, quarter * 3, end.day)


def _day_word(word: str, today: date, past: bool) -> date:
    word = re.sub(r"\s+", " ", word)
    if word in DAYS:
        return today + timedelta(days=DAYS[word])
    wd = WEEKDAYS[word]
    delta = (today.weekday() - wd) % 7 if past else (wd - today.weekday()) % 7
    return today + timedelta(days=-delta if past else delta)


def _calendar_date(text: str, pos: int, now: datetime, past: bool) -> Reading | None:
    """A date written with numbers or a month name, at `pos`."""
    today = now.date()
    if m := ISO.match(text, pos):
        day = _safe(int(m[1]), int(m[3]), int(m[4]))
    elif m := DOTTED.match(text, pos):
        day = (
            _dated(int(m[2]), int(m[1]), m[3], today, past)
            if m[1]
            else _dated(int(m[5]), int(m[4]), None, today, past)
        )
    elif m := NUMERIC.match(text, pos):
        day = _numeric(m, now, past)
    elif m := DAY_MONTH.match(text, pos):
        day = _dated(MONTHS[re.sub(r"\s+", " ", m[2])] + 1, int(m[1]), m[3], today, past)
    elif m := MONTH_DAY.match(text, pos):
        day = _dated(MONTHS[re.sub(r"\s+", " ", m[1])] + 1, int(m[2]), m[3], today, past)
    else:
        return None
    return Reading(day, None, m.end()) if day else None


def _day(text: str, pos: int, now: datetime, past: bool) -> Reading | None:
    """A day, however written, at `pos` (no time of day yet)."""
    today = now.date()
    if found := _calendar_date(text, pos, now, past):
        return found
    if m := END_OF_DAY_WORDS.match(text, pos):
        named = m["day"] or m["named"]
        day = _day_word(named, today, past) if named else today
        return Reading(day, CLOSE_OF_BUSINESS, m.end())
    if m := END_OF_PERIOD.match(text, pos):
        return Reading(_end_of_period(m, today), None, m.end())
    if m := WEEKDAY.match(text, pos):
        explicit = _calendar_date(text, CONNECTOR.match(text, m.end()).end(), now, past)  # "Thu 12 March"
        return explicit or Reading(_weekday(m, today, past), None, m.end())
    if m := WEEKEND.match(text, pos):  # its Saturday: within a day of Friday evening and Sunday
        saturday = today + timedelta(days=(SATURDAY - today.weekday()) % 7 or 7)
        return Reading(
            saturday + timedelta(days=7 * bool(m["next"] and today.weekday() < SATURDAY)), None, m.end()
        )
    if m := ORDINAL.match(text, pos):
        first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return _ordinal(int(m[1]), first_of_next if m["next"] else today, past, m.end())
    if m := RELATIVE.match(text, pos):
        return Reading(today + timedelta(days=DAYS[re.sub(r"\s+", " ", m[0])]), None, m.end())
    return None


def _ordinal(number: int, today: date, past: bool, end: int) -> Reading | None:
    """ "the 14th": this month's, or the next (last when `past`) month's if it is gone."""
    step = -1 if past else 1
    for months in (0, step):
        year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
        found = _safe(year, month + 1, number)
        if found and (found <= today if past else found >= today):
            return Reading(found, None, end)
    return None


def read_time(text: str, pos: int) -> tuple[time, int] | None:
    """A time of day at `pos`: "5pm", "3:30 pm", "17:00", "4 o'clock", "12 Uhr", "noon"."""
    m = TIME.match(text, pos)
    if not m:
        return None
    if m["word"]:
        hour, minute = map(int, TIME_WORDS[m["word"]].split(":"))
    else:
        hour = int(m["h"] or m["h2"] or m["h3"])
        minute = int(m["m"] or m["m2"] or m["m3"] or 0)
        if m["ap"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m["ap"] == "p" else 0)
        elif m["h2"] and 1 <= hour <= 7:
            hour += 12  # "before 2:30" in a working day is the afternoon
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute), m.end()


def read_date(text: str, pos: int, now: datetime, past: bool = False) -> Reading | None:
    """The date expression at `pos`, with its time of day when one is written next to it."""
    if found := _day(text, pos, now, past):
        after = read_time(text, CONNECTOR.match(text, found.end).end())
        if after and found.at is None:
            return Reading(found.day, after[0], after[1])
        return found
    if clock := read_time(text, pos):
        day = _day(text, CONNECTOR.match(text, clock[1]).end(), now, past)  # "17:00 today"
        if day:
            return Reading(day.day, clock[0], day.end)
        return Reading(now.date(), clock[0], clock[1], named=False)
    return None


def read_span(text: str, pos: int, now: datetime) -> tuple[datetime, int] | None:
    """A span at `pos` ("3 days", "48 hours", "a week", "two business days"), added to `now`."""
    m = SPAN.match(text, pos)
    if not m:
        return None
    count = int(m["n"]) if m["n"].isdigit() else NUMBERS[m["n"]]
    days = UNITS[m["unit"]] * count
    if not m["biz"] or days < 1:
        return now + timedelta(days=days), m.end()
    due, left = now, int(days)
    while left:
        due += timedelta(days=1)
        left -= due.weekday() < 5
    return due, m.end()
