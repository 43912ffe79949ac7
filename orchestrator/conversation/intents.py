"""Intent recognition and slot filling for rules-mode conversation, with no language model.

`read(text, now)` repairs common typos, drops polite openings, finds when (`dates.find_when`), picks
the first intent of the language's ordered table whose pattern matches, and fills the slots that
intent uses: `date`, `time`, `person`, `item` (a reference to something shown: "1", "last",
"this", "all", "next", "from:tom", "card:3" for a card's number on the page, or an approval id) and `topic`, plus a reminder's text and a
reply's sentence. When a needed slot is missing or cannot be read (no time for a reminder, a whole
week for one), the reading carries one short clarifying question instead of a guess.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.conversation.dates import When, find_when, moment_of
from orchestrator.conversation.lang import LANGUAGES, Language

__all__ = ["SLOTS_USED", "Reading", "item_reference", "normalize", "read"]

SLOTS_USED: dict[str, tuple[str, ...]] = {
    "agenda_day": ("date", "time"),
    "agenda_range": ("date",),
    "next_meeting": ("person",),
    "free_time": ("date", "time"),
    "meeting_brief": ("date", "time", "person", "item", "topic"),
    "new_mail_since": ("date", "time"),
    "mail_from_person": ("person", "date"),
    "mail_about_topic": ("topic", "person"),
    "summarize_thread": ("topic", "person", "item"),
    "waiting_on_me": ("person",),
    "i_am_waiting_on": ("person",),
    "remind_me": ("date", "time", "item"),
    "list_reminders": ("date",),
    "cancel_reminder": ("date", "time", "item", "topic"),
    "snooze_item": ("item", "date", "time"),
    "mark_read_item": ("item",),
    "mark_done_item": ("item",),
    "correct_item": ("item",),
    "digest_time": ("time",),
    "draft_reply": ("person", "item"),
    "approve": ("item",),
    "reject": ("item",),
}
PROFILE = ("profile_show", "profile_edit")
WORD = re.compile(r"\b[^\W\d_](?:[^\W\d_]|')*\b")  # letters of any language ("mañana")


@dataclass(frozen=True)
class Reading:
    intent: str
    text: str  # what the user wrote
    normal: str = ""  # lower case, typos repaired, polite openings dropped
    slots: dict[str, str] = field(default_factory=dict)
    when: When = field(default_factory=When)
    confidence: float = 1.0
    question: str | None = None
    message: str | None = None  # a reminder's text
    body: str | None = None  # a reply's sentence, as written


def normalize(text: str, language: Language) -> tuple[str, int]:
    """Lower case, typos repaired, polite openings and closing punctuation dropped; and how many
    words were repaired."""
    lowered = " ".join(text.lower().replace("’", "'").replace("“", '"').replace("”", '"').split())
    repaired = 0

    def repair(match: re.Match[str]) -> str:
        nonlocal repaired
        word = match.group(0)
        fixed = language.typos.get(word) or _similar(word, language)
        repaired += fixed is not None and fixed != word
        return fixed or word

    lowered = WORD.sub(repair, lowered)
    lowered = language.polite.sub("", lowered).strip()
    return lowered.rstrip(" ?!.") or lowered, repaired


def _similar(word: str, language: Language) -> str | None:
    if len(word) < 5 or word in language.vocabulary or word in language.name_stopwords:
        return None
    close = difflib.get_close_matches(word, language.vocabulary, n=1, cutoff=0.8)
    if (
        not close or word in close[0] or close[0] in word
    ):  # "night" is no "tonight", "unschedule" no "schedule"
        return None
    return close[0]


def read(text: str, now: datetime, language: Language | None = None) -> Reading:
    """What `text` asks for, read at `now` (aware, in the user's timezone)."""
    language = language or LANGUAGES["en"]
    normal, repaired = normalize(text, language)
    profile = _profile_intent(text)
    if profile is not None:
        return Reading(profile, text, normal)
    intent = next((name for name, pattern in language.intents if pattern.search(normal)), "unknown")
    if intent == "unknown":
        return Reading("unknown", text, normal, confidence=0.0)
    when = find_when(normal, now, language)
    if intent == "agenda":
        intent = "agenda_range" if when.until else "agenda_day"
    rest = _masked(normal, when)
    slots = _slots(intent, normal, rest, when, now, language)
    reading = Reading(intent, text, normal, slots, when, 1.0 if not repaired else 0.8)
    return _complete(reading, rest, language)


def _profile_intent(text: str) -> str | None:
    """The profile commands keep their own grammar (`chat_commands`), read on the user's words."""
    from orchestrator.chat_commands import SHOW_PROFILE, profile_change

    if SHOW_PROFILE.match(text) or re.match(
        r"^\s*(?:what do you know about me|what'?s in my profile|who am i\s*[?.!]?\s*$)", text, re.I
    ):
        return "profile_show"
    if re.search(r"\breminder", text, re.I):
        return None
    return "profile_edit" if profile_change(text) else None


def _masked(normal: str, when: When) -> str:
    """`normal` without the words that said when (each replaced by spaces), spaces collapsed."""
    chars = list(normal)
    for start, end in when.spans:
        chars[start:end] = " " * (end - start)
    return " ".join("".join(chars).split())


def _slots(
    intent: str, normal: str, rest: str, when: When, now: datetime, language: Language
) -> dict[str, str]:
    used = SLOTS_USED.get(intent, ())
    slots: dict[str, str] = {}
    if "date" in used and (value := _date_slot(intent, when, now, language)):
        slots["date"] = value
    if "time" in used and (value := when.time_slot()):
        slots["time"] = value
    if "person" in used and (value := _person(intent, rest, language)):
        slots["person"] = value
    if "item" in used and (value := _item(intent, normal, rest, language)):
        slots["item"] = value
    if "topic" in used and (value := _topic(intent, rest, language)):
        slots["topic"] = value
    return slots


def _date_slot(intent: str, when: When, now: datetime, language: Language) -> str | None:
    if intent == "agenda_day" and when.day is None:
        return now.date().isoformat()
    if intent in ("remind_me", "snooze_item") and when.day is None and when.clock:
        moment = moment_of(when, now, language)
        return moment.date().isoformat() if moment else None
    return when.date_slot()


def _person(intent: str, rest: str, language: Language) -> str | None:
    for pattern in language.persons.get(intent, ()):
        if (match := pattern.search(rest)) is None:
            continue
        words = [w for w in match.group("name").split() if w not in language.name_stopwords]
        if words and words[0] == match.group("name").split()[0]:
            return " ".join(words[:2] if len(words) == len(match.group("name").split()) else words[:1])
    return None


def _item(intent: str, normal: str, rest: str, language: Language) -> str | None:
    items = language.items
    if intent in ("approve", "reject"):
        if match := items["id"][0].search(normal):
            return match.group("id")
    else:
        for kind in ("card", "possessive", "next", "last", "ordinal", "named", "number", "all"):
            for pattern in items.get(kind, ()):
                if match := pattern.search(rest):
                    return _item_value(kind, match, language)
    pronoun = language.item_pronouns.get(intent)
    return "this" if pronoun is not None and pronoun.search(rest) else None


def item_reference(normal: str, language: Language) -> str | None:
    """What a reference said alone ("the first one", "card 3", "Tom's mail", "it") points at, as an
    item slot; `normal` as `normalize` leaves it."""
    return _item("snooze_item", normal, normal, language)


def _item_value(kind: str, match: re.Match[str], language: Language) -> str:
    if kind == "card":  # "card 3", "the third card": the page's numbering (`card:3`)
        number = match.groupdict().get("n")
        return f"card:{int(number) if number else language.ordinals[match.group('ord')]}"
    if kind in ("possessive", "named"):
        return f"from:{match.group('name')}"
    if kind == "ordinal":
        return str(language.ordinals[match.group("ord")])
    if kind == "number":
        return str(int(match.group("n")))
    return kind


def _topic(intent: str, rest: str, language: Language) -> str | None:
    for pattern in language.topics.get(intent, ()):
        if (match := pattern.search(rest)) is None:
            continue
        words = re.sub(r"[^\w' -]", " ", match.group("topic")).split()
        while words and words[0] in language.topic_noise:
            words.pop(0)
        while words and words[-1] in language.topic_noise:
            words.pop()
        if words and not any(w.endswith("'s") for w in words):
            return " ".join(words)
    return None


def _complete(reading: Reading, rest: str, language: Language) -> Reading:
    """Add a reminder's text or a reply's sentence, and the question to ask when one is missing."""
    questions = language.questions
    slots, when = reading.slots, reading.when
    if reading.intent == "remind_me":
        message = _message(rest, reading.text, language)
        question = None
        if when.until is not None:
            question = questions["remind_day"]
        elif not when.found:
            question = questions["remind_when"]
        elif not message and "item" not in slots:
            question = questions["remind_what"]
        return _replace(reading, message=message or None, question=question)
    if reading.intent == "draft_reply":
        body = _body(reading.text, language)
        question = None
        if "person" not in slots and "item" not in slots:
            question = questions["reply_whom"]
        elif not body:
            question = questions["reply_what"]
        return _replace(reading, body=body, question=question)
    return reading


def _message(rest: str, original: str, language: Language) -> str:
    message = rest
    for pattern in language.message:
        message = pattern.sub("", message).strip(" :,")
    written = {word.lower(): word for word in re.findall(r"[\w'-]+", original)}
    return re.sub(r"[\w'-]+", lambda m: written.get(m.group(0), m.group(0)), message)


def _body(text: str, language: Language) -> str | None:
    stripped = re.sub(language.polite.pattern, "", text.strip(), flags=re.I)
    for pattern in language.body:
        if match := pattern.search(stripped):
            return match.group("body").strip(" \"'") or None
    return None


def _replace(reading: Reading, **changes: object) -> Reading:
    from dataclasses import replace

    return replace(reading, **changes)
