"""Deadlines in mail text: a cue, then a date a reader would put in the diary.

A deadline needs both: a cue from a language table of `deadline_words` ("by", "due", "before", "no
later than", "within", "deadline", "bis", "avant", "antes de" ...) and, right after it (a few words
later after a noun such as "deadline" or "closing date"), a date expression that
`date_expressions` can resolve against the mail's own date, inside the window of a deadline: from
the day it was sent to a year ahead, or up to three months back when the words say it was due
("was due Monday"). Bare numbers are never dates ("by 24", "by 0.01", sizes, versions, prices,
phone numbers), nor are amounts after a change verb ("cut by 1/2"), visits ("drop by on Friday"),
venue hours, weekly habits or absences ("away until Monday"). A few cues follow the date ("Friday at
the latest"). "Until", "till" and "expires" are cues only for a trusted, non-bulk sender, and from
anyone else a sentence that sells (an offer, a deal, a coupon, "win", "delivery") sets none.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from datetime import MAXYEAR, MINYEAR, date, datetime, time

from pydantic import BaseModel, Field

from orchestrator.triage.date_expressions import (
    ARTICLE,
    ARTICLE_DAY,
    CONNECTOR,
    DAYS,
    END_OF_DAY,
    REL,
    WD,
    Reading,
    alternation,
    fold,
    in_window,
    read_date,
    read_span,
    read_time,
)
from orchestrator.triage.deadline_words import LANGUAGES

__all__ = ["Deadline", "find_deadlines"]

SCANNED = 4000  # characters of a body read: deadlines sit at the top of real mail
SENTENCE_REACH = 400  # characters looked back for a sentence's start
MAX_GAP_WORDS = 5  # "closing date for applications is 9 July"


class Deadline(BaseModel):
    phrase: str = Field(description="The words that gave the date, as written")
    due: datetime = Field(description="When it is due (the message's timezone)")


def _kinds() -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for kind in ("cues", "nouns", "trusted_cues", "span_cues"):
            for word in getattr(language, kind):
                kinds.setdefault(word, set()).add(kind)
    return kinds


CUE_KINDS = _kinds()
CUE = re.compile(rf"(?<![\w-])(?:{alternation(CUE_KINDS)})(?![\w'])")
FILLERS = alternation({word for language in LANGUAGES for word in language.fillers})
LEAD = re.compile(rf"\s*[:\-]?\s*(?:(?:{FILLERS})\s+){{0,2}}")
GAP_WORD = re.compile(r"\s*[:\-]?\s*[a-z']+\s*:?")
PAST = alternation({word for language in LANGUAGES for word in language.past})
PAST_BEFORE = re.compile(rf"\b(?:{PAST})\s+(?:(?:already|originally|actually)\s+)?$")
PAST_IN_GAP = re.compile(rf"\b(?:{PAST})\b")
DAY_BEFORE = re.compile(rf"\b(?P<day>{REL}|{WD})\s+$")
BARE_HOUR = re.compile(r"(\d{1,2})(?![\d,:/-]|\.\d|\s*%)")
SENTENCE_END = re.compile(r"[!?;\n]|\.(?:\s|$)")
AMOUNT_BEFORE = re.compile(
    r"\b(?:increas|decreas|reduc|cut|drop|fall|fell|ris|rose|grow|grew|gain|los|improv|boost|lower|rais|shrink"
    r"|enlarg|multipl|divid|beat|won|win|trail|exceed|slash)\w*"
    r"(?:\s+[a-z']+){0,2}\s+$"
)
TRAILING_CUE = re.compile(
    r"\s*,?\s*\b(?:at the latest|at the very latest|au plus tard|spatestens|a mas tardar)\b"
    r"(?!\s+(?:news|version|release|update|edition|figures|numbers|data)\b)"
)
# "away until Monday", "bis Freitag im Urlaub": an absence, whoever writes it
ABSENT = re.compile(
    r"\b(?:away|out of (?:the )?office|on (?:holiday|vacation|leave)|ooo|urlaub|abwesend|en conge|absente?"
    r"|de vacaciones|fuera de la oficina|in ferie|afwezig|op vakantie|de ferias)\b"
)
VISIT_BEFORE = re.compile(r"\b(?:drop|stop|come|came|swing|pass|passed|walk|go|went|stand|pop)\s+$")
VENUE_BEFORE = re.compile(
    r"\b(?:shop|store|office|bank|library|restaurant|cafe|bar|pool|gym|museum|doors?|branch|park|kitchen"
    r"|canteen|reception|desk|hotline|lines?)s?\s+(?:[a-z]+\s+)?$"
)
HABITUAL_AFTER = re.compile(rf"\s*,?\s*(?:on\s+)?(?:every|each|(?:{WD})s\b|weekdays|weekends|daily)")
REQUEST = re.compile(
    r"(?:^\s*|[.!?;\n]\s*)(?:send|reply|respond|return|submit|pay|complete|confirm|sign|finish|get back|let me know)\b"
    r"|\b(?:please|kindly|can you|could you|would you|must|need|needs|have to|has to|required|should"
    r"|bitte|merci de|veuillez|por favor|per favore|graag|por favor)\b"
)
SELLING = re.compile(
    r"\b(?:offers?|deals?|sale|discounts?|coupons?|promo\w*|vouchers?|\d+\s*% off|win|winners?|prizes?"
    r"|sweepstakes?|early[- ]bird|delivery|shipping|while (?:stocks|supplies) last|in stock|hurry"
    r"|limited time|act now|buy now|order now|free (?:gift|trial|shipping|cruise|sample)s?"
    r"|guarantee\w*|bonus|save (?:up to )?\$?\d+|risk[- ]free|claim your|no obligation|money[- ]back|cash|clearance"
    r"|angebot\w*|rabatt\w*|offre\w*|promotion|soldes|oferta\w*|descuento\w*|gratis)\b"
)


def find_deadlines(text: str, sent_at: datetime, *, trusted: bool = False) -> list[Deadline]:
    """The deadlines in `text`, read relative to `sent_at` (the message's own date and timezone).

    `trusted`: the sender is trusted and the mail is not bulk; only then do "until", "till" and
    "expires" announce a deadline, and only then may a sentence that sells set one."""
    if not MINYEAR < sent_at.year < MAXYEAR:
        return []  # a mangled Date header: nothing can be read relative to it
    original = text[:SCANNED]
    folded = fold(original)
    found: dict[datetime, Deadline] = {}
    for due, start, end in [*_cued(folded, sent_at, trusted), *_trailing(folded, sent_at, trusted)]:
        phrase = " ".join(original[start:end].split()).rstrip(".,;:")
        found.setdefault(due, Deadline(phrase=phrase, due=due))
    return list(found.values())


def _cued(folded: str, sent_at: datetime, trusted: bool) -> Iterator[tuple[datetime, int, int]]:
    """Deadlines a cue announces before the date: "by Friday", "due 3 May", "deadline is ..."."""
    selling = [m.start() for m in SELLING.finditer(folded)]
    for cue in CUE.finditer(folded):
        kinds = CUE_KINDS[re.sub(r"\s+", " ", cue[0])]
        if kinds == {"trusted_cues"} and (not trusted or _opens_sentence(folded, cue.start())):
            continue  # "Until tomorrow," opens a sign-off, not a deadline
        if not trusted and _sells(folded, cue.start(), selling):
            continue
        if ABSENT.search(_near(folded, cue)):
            continue
        if reading := _after_cue(folded, cue, kinds, sent_at):
            yield reading[0], cue.start(), reading[1]


def _trailing(folded: str, sent_at: datetime, trusted: bool) -> Iterator[tuple[datetime, int, int]]:
    """Deadlines whose cue follows the date: "Friday at the latest", "le 3 mai au plus tard"."""
    selling = [m.start() for m in SELLING.finditer(folded)]
    for cue in TRAILING_CUE.finditer(folded):
        if not trusted and _sells(folded, cue.start(), selling):
            continue
        first = max(_sentence_starts(folded, cue.start())[-1], cue.start() - 40)
        for start in [m.start() for m in re.finditer(r"(?<![\w'])\w", folded[first : cue.start()])]:
            start += first
            reading = read_date(folded, start, sent_at)
            if reading and reading.named and not folded[reading.end : cue.start()].strip(" ,"):
                if in_window(reading.day, sent_at, past=False):
                    due = datetime.combine(reading.day, reading.at or END_OF_DAY, tzinfo=sent_at.tzinfo)
                    yield due, start, cue.end()
                break


def _after_cue(folded: str, cue: re.Match, kinds: set[str], sent_at: datetime) -> tuple[datetime, int] | None:
    """The due moment the words after `cue` give, and where they end."""
    start = LEAD.match(folded, cue.end()).end()
    if "span_cues" in kinds and (span := read_span(folded, start, sent_at)):
        # "within 48 hours" binds the reader only in a request; in ads it is a promise
        asks = cue[0].startswith("due") or REQUEST.search(_sentence(folded, cue.start()))
        return span if asks and in_window(span[0].date(), sent_at, past=False) else None
    before = folded[max(0, cue.start() - 40) : cue.start()]
    if _not_a_deadline(folded, cue, start, before):
        return None
    past = bool(PAST_BEFORE.search(before))
    for _ in range(MAX_GAP_WORDS + 1 if "nouns" in kinds else 1):
        reading = _dated(folded, cue, start, sent_at, past)
        if reading is not None:
            return reading
        gap = GAP_WORD.match(folded, start)
        if gap is None or SENTENCE_END.search(gap[0]):
            return None
        past = past or bool(PAST_IN_GAP.search(gap[0]))
        start = LEAD.match(folded, gap.end()).end()
    return None


def _not_a_deadline(folded: str, cue: re.Match, start: int, before: str) -> bool:
    """Words around the cue that make it something else: an amount ("cut your bills by 1/2"), a
    visit ("drop by on Friday"), a venue's hours ("the shop closes at 6")."""
    amount = folded[start : start + 1].isdigit() and not read_time(folded, start)
    if amount and AMOUNT_BEFORE.search(before):
        return True
    if cue[0] == "by" and VISIT_BEFORE.search(before):
        return True
    return cue[0].startswith("close") and bool(VENUE_BEFORE.search(before))


def _dated(
    folded: str, cue: re.Match, start: int, sent_at: datetime, past: bool
) -> tuple[datetime, int] | None:
    reading = read_date(folded, start, sent_at, past) or _article_day(folded, cue, start, sent_at, past)
    bare = reading is None
    reading = reading or _bare_hour(folded, start, sent_at)
    if reading is None:
        return None
    if not reading.named:
        # "Friday before noon", "today before 6": the day is written just before the cue
        if day := DAY_BEFORE.search(folded[max(0, cue.start() - 30) : cue.start()]):
            reading = reading._replace(day=_named_day(day["day"], sent_at, past))
        elif bare:
            return None
    if HABITUAL_AFTER.match(folded, reading.end):
        return None  # "closes at 5pm on Fridays": every week, no deadline
    relative_past = reading.day < sent_at.date() and _is_past_word(folded, start)
    if not in_window(reading.day, sent_at, past or relative_past):
        return None
    due = datetime.combine(reading.day, reading.at or END_OF_DAY, tzinfo=sent_at.tzinfo)
    return due, reading.end


def _article_day(folded: str, cue: re.Match, start: int, sent_at: datetime, past: bool) -> Reading | None:
    """ "avant le 14", "antes del 14", "bis zum 14.": a bare day of the month after an article."""
    m = ARTICLE_DAY.match(folded, start)
    if not m or not ARTICLE.search(folded[cue.start() : start]):
        return None
    reading = read_date(f"{int(m[1])}th", 0, sent_at, past)
    return reading._replace(end=m.end()) if reading else None


def _bare_hour(folded: str, start: int, sent_at: datetime) -> Reading | None:
    """A bare hour ("before 6"), kept only when a day is named just before the cue."""
    m = BARE_HOUR.match(folded, start)
    if not m or not 1 <= int(m[1]) <= 12:
        return None
    hour = int(m[1]) + (12 if int(m[1]) < 8 else 0)  # "before 6" in a working day is 18:00
    day = read_date(folded, CONNECTOR.match(folded, m.end()).end(), sent_at)  # "by 9 tonight"
    if day is not None and day.named and day.at is None:
        return Reading(day.day, time(hour, 0), day.end)
    return Reading(sent_at.date(), time(hour, 0), m.end(), named=False)


def _is_past_word(folded: str, start: int) -> bool:
    """Whether a day word that lies behind ("yesterday", "gestern") starts at `start`."""
    return any(offset < 0 and folded.startswith(word, start) for word, offset in DAYS.items())


def _named_day(word: str, sent_at: datetime, past: bool) -> date:
    reading = read_date(word, 0, sent_at, past)
    return reading.day if reading else sent_at.date()


def _opens_sentence(folded: str, at: int) -> bool:
    return not folded[max(0, at - 3) : at].strip(" \t,") or bool(
        SENTENCE_END.search(folded[max(0, at - 3) : at])
    )


def _sells(folded: str, at: int, selling: list[int]) -> bool:
    """Whether the sentence at `at`, or the one before it, holds a selling word (at `selling`)."""
    first, end = _sentence_span(folded, at, before=1)
    index = bisect_left(selling, first)
    return index < len(selling) and selling[index] < end


def _near(folded: str, cue: re.Match) -> str:
    """The few words either side of `cue`, within its sentence and clause."""
    before = re.split(r"[,;.!?\n]", folded[max(0, cue.start() - 25) : cue.start()])[-1]
    after = re.split(r"[,;!?\n]|\.\s", folded[cue.end() : cue.end() + 30])[0]
    return f"{before}{cue[0]}{after}"


def _sentence_starts(folded: str, at: int) -> list[int]:
    """Where the sentences before `at` start, looking back a long sentence's length at most."""
    first = max(0, at - SENTENCE_REACH)
    return [first] + [m.end() for m in SENTENCE_END.finditer(folded, first, at)]


def _sentence_span(folded: str, at: int, before: int = 0) -> tuple[int, int]:
    """Where the sentence around position `at` (and `before` sentences before it) starts and ends."""
    starts = _sentence_starts(folded, at)
    after = SENTENCE_END.search(folded, at, at + SENTENCE_REACH)
    end = after.end() if after else min(len(folded), at + SENTENCE_REACH)
    return starts[max(len(starts) - 1 - before, 0)], end


def _sentence(folded: str, at: int) -> str:
    """The sentence around position `at`."""
    first, end = _sentence_span(folded, at)
    return folded[first:end]
