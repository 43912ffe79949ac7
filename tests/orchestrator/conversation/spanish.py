"""A small Spanish table for the conversation engine, written as a new language's author would (see
`orchestrator/conversation/README.md`, "Adding a language"): the day, month and number words, a few
date patterns, and the phrasings of seven intents. It lives with the tests because it covers only
what `test_other_language.py` tries; a shipped `lang/es.py` would fill in every intent the same way.
"""

from __future__ import annotations

import re

from orchestrator.conversation.lang import Language, compile_all

__all__ = ["SPANISH"]

WEEKDAYS = {
    "lunes": 0, "martes": 1, "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sábado": 5, "sabado": 5, "domingo": 6,
}  # fmt: skip
MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}  # fmt: skip
NUMBERS = {
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "diez": 10,
    "quince": 15,
    "treinta": 30,
}
ORDINALS = {"primera": 1, "primero": 1, "segunda": 2, "segundo": 2, "tercera": 3, "tercero": 3}
UNITS = {"minuto": 60, "minutos": 60, "hora": 3600, "horas": 3600, "día": 86400, "días": 86400}

WD = "(?P<wd>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + ")"
MO = "(?P<mo>" + "|".join(MONTHS) + ")"
N = r"(?P<n>\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
UNIT = "(?P<unit>" + "|".join(sorted(UNITS, key=len, reverse=True)) + ")"
ORD = "(?P<ord>" + "|".join(ORDINALS) + ")"
PART = "(?P<part>mañana|tarde|noche)"

DATE_PATTERNS = {
    "delay": (rf"\b(?:en|dentro de) {N} {UNIT}\b",),
    "ago": (),
    "week_of": (),
    "range": (r"\b(?P<this_week>esta semana)\b", r"\b(?P<next_week>la semana que viene|la próxima semana)\b"),
    "relative": (
        rf"\b(?P<after_tomorrow>pasado mañana)(?: por la {PART})?\b", rf"\b(?P<tomorrow>mañana) por la {PART}\b",
        rf"\besta {PART}\b",
        r"(?<!la )\b(?P<tomorrow>mañana)\b", r"\b(?P<today>hoy)\b", r"\b(?P<yesterday>ayer)\b",
    ),
    "weekday": (rf"\b(?:el )?(?P<dir>próximo|proximo) {WD}\b", rf"\b(?:el )?{WD}\b"),
    "month_day": (rf"\b(?:el )?(?P<day>\d{{1,2}}) de {MO}\b",),
    "day_of_month": (r"\bel (?P<day>\d{1,2})\b(?! de)",),
    "clock": (
        r"\ba las (?P<h>\d{1,2})(?::(?P<min>\d{2}))?\b", r"\b(?:a )?(?:las )?(?P<h>\d{1,2}):(?P<min>\d{2})\b",
        r"\b(?:al |a )?(?P<noon>mediodía|medianoche)\b",
    ),
    "part": (rf"\bpor la {PART}\b",),
    "span": (r"\bentre\b.*\by\b",),
}  # fmt: skip
INTENTS = [
    ("greeting", r"^(?:hola|gracias|buenos días)\b"),
    ("remind_me", r"\brecu[ée]rdame\b|\brecordatorio\b|\bavísame\b"),
    ("snooze_item", r"\bposp[oó]n(?:er)?\b|\baplaza\b"),
    ("mark_read_item", r"\ble[íi]d[ao]s?\b"),
    ("mark_done_item", r"\bhech[ao]s?\b|\bterminad[ao]\b|\blist[ao]\b"),
    ("agenda", r"\breuniones\b|\bagenda\b|\bcalendario\b|\bqué tengo\b"),
    ("urgent_mail", r"\burgente\b|\bimportante\b"),
    ("mail_from_person", r"\bqué me (?:ha )?(?:mandado|enviado)\b|\bcorreos? de\b"),
]  # fmt: skip
NAME = r"(?P<name>[^\W\d_]+)"
ITEMS = {
    "card": (r"\btarjeta #?(?P<n>\d{1,3})\b", rf"\bla {ORD} tarjeta\b"),
    "number": (r"#\s?(?P<n>\d{1,3})\b", r"\bnúmero (?P<n>\d{1,3})\b"),
    "ordinal": (rf"\b(?:el|la) {ORD}\b",),
    "last": (r"\b(?:el|la) últim[ao]\b",),
    "all": (r"\btod[ao]s\b",),
}
QUESTIONS = {
    "remind_when": "¿Cuándo te lo recuerdo? (por ejemplo: mañana a las 9, en 2 horas, el viernes)",
    "remind_day": "¿Qué día te lo recuerdo?",
    "remind_what": "¿De qué te lo recuerdo?",
    "which_person": "¿A qué {name} te refieres: {choices}?",
    "which_item": "¿Cuál? Dime su número, por ejemplo: la tarjeta 2.",
    "which_action": "¿Qué acción? {choices}",
    "reply_what": "¿Qué digo en la respuesta?",
    "reply_whom": "¿A quién respondo?",
}

SPANISH = Language(
    code="es",
    typos={"mñn": "mañana", "q": "qué"},
    vocabulary=frozenset("mañana recuérdame reuniones urgente pospón calendario".split()),
    weekdays=WEEKDAYS,
    months=MONTHS,
    numbers=NUMBERS,
    ordinals=ORDINALS,
    units=UNITS,
    part_hours={"mañana": "09:00", "tarde": "16:00", "noche": "20:00"},
    part_windows={"mañana": (8, 13), "tarde": (13, 20), "noche": (20, 23)},
    date_patterns={kind: compile_all(patterns) for kind, patterns in DATE_PATTERNS.items()},
    polite=re.compile(r"^(?:¿\s*|(?:por favor|oye pepper|pepper|puedes|podrías),?\s+)+"),
    intents=tuple((name, re.compile(pattern)) for name, pattern in INTENTS),
    persons={
        "mail_from_person": compile_all(
            (rf"\bqué me (?:ha )?(?:mandado|enviado) {NAME}", rf"\bcorreos? de {NAME}")
        )
    },
    name_stopwords=frozenset("me mi el la los las un una hoy mañana ayer".split()),
    topics={},
    topic_noise=frozenset(),
    items={kind: compile_all(patterns) for kind, patterns in ITEMS.items()},
    item_pronouns={
        intent: re.compile(r"\b(?:esto|eso|esta|esa)\b")
        for intent in ("snooze_item", "mark_done_item", "mark_read_item")
    },
    message=compile_all((r"^(?:recu[ée]rdame|avísame)(?: que)?\b", r"^(?:de|que)\s+")),
    body=(),
    questions=QUESTIONS,
    help_lines={
        "remind_me": "**recuérdame** *algo* **mañana a las 9**",
        "snooze_item": "**pospón la tarjeta 3**",
    },
    help_intro="No te he entendido. Sin un modelo de lenguaje puedo hacer esto:",
    extra={"greeting": "¡Hola! Pregúntame qué es urgente o qué tengo mañana.", "thanks": "De nada."},
    corrections={"never": re.compile(r"\bnunca\b"), "not_important": re.compile(r"\bno es importante\b")},
    canonical={"próximo": "next", "proximo": "next", "mediodía": "noon", "medianoche": "midnight"},
)
