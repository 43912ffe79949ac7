"""The words of deadlines, one table per language, read by `orchestrator.triage.deadlines`.

A table names the cues that announce a deadline (`by`, `bis`, `avant`, `antes de` ...), the nouns
that name one (`deadline`, `Frist`, `date limite` ...), the cues that count only from a trusted,
non-bulk sender (`until`: shops and venues use it for offers and opening hours), weekdays, months,
relative days, "end of", "next" and "week" words, and the units of a span ("within 3 days"). All
words are written lower-case without accents, as the detector folds the text the same way. To add a
language, add a `Language` to `LANGUAGES`; every table is merged into one set of patterns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LANGUAGES", "Language"]


@dataclass(frozen=True)
class Language:
    code: str
    cues: tuple[str, ...]  # a date must follow at once (after an article or "on")
    nouns: tuple[str, ...]  # a date may follow a few words later ("deadline for the draft: 3 May")
    trusted_cues: tuple[str, ...]  # only from a trusted, non-bulk sender
    span_cues: tuple[str, ...]  # followed by a span: "within 3 days"
    weekdays: dict[str, int]
    months: dict[str, int]
    days: dict[str, int]  # relative days: today 0, tomorrow 1 ...
    end_of: tuple[str, ...]  # "end of"
    next_words: tuple[str, ...]
    week: tuple[str, ...]
    month: tuple[str, ...]
    year: tuple[str, ...]
    units: dict[str, float] = field(default_factory=dict)  # span units, in days
    numbers: dict[str, int] = field(default_factory=dict)
    fillers: tuple[str, ...] = ()  # articles and prepositions between a cue and its date
    times: dict[str, str] = field(default_factory=dict)  # "noon" -> "12:00"
    hour_words: tuple[str, ...] = ()  # "o'clock", "Uhr"
    past: tuple[str, ...] = ()  # words that put a deadline in the past ("was due")


def _days(names: str) -> dict[str, int]:
    """'mon|monday tue|tuesday ...' -> {'mon': 0, 'monday': 0, 'tue': 1, ...}"""
    return {name: index for index, group in enumerate(names.split()) for name in group.split("|")}


ENGLISH = Language(
    code="en",
    cues=(
        "by",
        "before",
        "no later than",
        "not later than",
        "due",
        "due on",
        "due by",
        "due at",
        "ahead of",
        "prior to",
        "closes",
        "close",
        "closes on",
        "close on",
        "closes at",
        "close at",
    ),
    nouns=(
        "deadline",
        "deadlines",
        "due date",
        "closing date",
        "target date",
        "cut-off date",
        "cutoff date",
        "cut-off",
        "cutoff",
    ),
    trusted_cues=("until", "till", "expires", "expires on", "expire on", "valid until", "valid through"),
    span_cues=("within", "in the next", "due in", "in the coming"),
    weekdays=_days(
        "mon|monday tue|tues|tuesday wed|weds|wednesday thu|thur|thurs|thursday fri|friday sat|saturday sun|sunday"
    ),
    months=_days(
        "jan|january feb|february mar|march apr|april may jun|june jul|july aug|august sep|sept|september"
        " oct|october nov|november dec|december"
    ),
    days={"today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2, "yesterday": -1},
    end_of=("end of", "the end of", "close of", "end of business", "end of business on"),
    next_words=("next",),
    week=("week", "the week", "this week"),
    month=("month", "the month", "this month"),
    year=("year", "the year", "this year"),
    units={
        "hour": 1 / 24,
        "hours": 1 / 24,
        "day": 1,
        "days": 1,
        "week": 7,
        "weeks": 7,
        "month": 30,
        "months": 30,
    },
    numbers={"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7},
    fillers=("the", "on", "at", "of"),
    times={"noon": "12:00", "midday": "12:00", "midnight": "23:59"},
    hour_words=("o'clock", "oclock"),
    past=("was", "were", "had been", "has passed", "passed", "expired", "missed"),
)

GERMAN = Language(
    code="de",
    cues=("bis", "bis zum", "bis zur", "bis spatestens", "spatestens", "spatestens am", "bis am", "vor dem"),
    nouns=("frist", "abgabetermin", "stichtag", "einsendeschluss", "anmeldeschluss"),
    trusted_cues=("gultig bis",),
    span_cues=("innerhalb von", "innerhalb der nachsten", "binnen"),
    weekdays=_days("montag dienstag mittwoch donnerstag freitag samstag sonntag"),
    months=_days(
        "januar|jan februar|feb marz|mrz april|apr mai juni|jun juli|jul august|aug september|sep|sept"
        " oktober|okt november|nov dezember|dez"
    ),
    days={"heute": 0, "heute abend": 0, "morgen": 1, "ubermorgen": 2, "gestern": -1},
    end_of=("ende", "ende der", "ende des", "ende dieser"),
    next_words=("nachster", "nachsten"),
    week=("woche",),
    month=("monats", "monat"),
    year=("jahres", "jahr"),
    units={"stunden": 1 / 24, "tagen": 1, "tage": 1, "wochen": 7, "woche": 7},
    numbers={"einem": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "sieben": 7},
    fillers=("zum", "am", "den"),
    times={"mittag": "12:00", "mitternacht": "23:59"},
    hour_words=("uhr",),
    past=("war", "waren", "abgelaufen"),
)

FRENCH = Language(
    code="fr",
    cues=("avant", "avant le", "d'ici", "d'ici le", "au plus tard", "au plus tard le", "pour le"),
    nouns=("date limite", "echeance", "delai"),
    trusted_cues=("jusqu'au", "jusqu'a"),
    span_cues=("sous", "dans les", "d'ici"),
    weekdays=_days("lundi mardi mercredi jeudi vendredi samedi dimanche"),
    months=_days("janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre"),
    days={"aujourd'hui": 0, "ce soir": 0, "demain": 1, "apres-demain": 2, "hier": -1},
    end_of=("fin", "la fin", "fin de", "fin du", "la fin de", "la fin du"),
    next_words=("prochaine", "prochain"),
    week=("semaine", "la semaine"),
    month=("mois",),
    year=("annee", "l'annee"),
    units={"heures": 1 / 24, "jours": 1, "semaines": 7},
    numbers={"un": 1, "une": 1, "deux": 2, "trois": 3, "huit": 8, "quinze": 15},
    fillers=("le",),
    times={"midi": "12:00", "minuit": "23:59"},
    hour_words=("h", "heures"),
    past=("etait", "a expire", "est passee"),
)

SPANISH = Language(
    code="es",
    cues=("antes del", "antes de", "a mas tardar", "a mas tardar el", "para el", "antes del dia"),
    nouns=("fecha limite", "plazo", "vencimiento"),
    trusted_cues=("hasta el", "hasta"),
    span_cues=("en los proximos", "dentro de"),
    weekdays=_days("lunes martes miercoles jueves viernes sabado domingo"),
    months=_days(
        "enero febrero marzo abril mayo junio julio agosto septiembre|setiembre octubre noviembre diciembre"
    ),
    days={"hoy": 0, "esta noche": 0, "manana": 1, "pasado manana": 2, "ayer": -1},
    end_of=("fin de", "finales de", "el fin de"),
    next_words=("proxima", "proximo", "que viene"),
    week=("semana", "la semana"),
    month=("mes", "del mes"),
    year=("ano", "del ano"),
    units={"horas": 1 / 24, "dias": 1, "semanas": 7},
    numbers={"un": 1, "una": 1, "dos": 2, "tres": 3, "cinco": 5, "siete": 7, "quince": 15},
    fillers=("el", "las", "la"),
    times={"mediodia": "12:00", "medianoche": "23:59"},
    past=("vencio", "era", "fue"),
)

# Smaller tables: cues, weekdays and months, enough for the commonest deadline sentences.
ITALIAN = Language(
    code="it",
    cues=("entro", "entro il", "prima di", "non oltre il"),
    nouns=("scadenza", "termine"),
    trusted_cues=("fino al",),
    span_cues=("entro",),
    weekdays=_days("lunedi martedi mercoledi giovedi venerdi sabato domenica"),
    months=_days(
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre"
    ),
    days={"oggi": 0, "stasera": 0, "domani": 1, "dopodomani": 2, "ieri": -1},
    end_of=("fine", "fine della", "fine del"),
    next_words=("prossima", "prossimo"),
    week=("settimana",),
    month=("mese",),
    year=("anno",),
    units={"ore": 1 / 24, "giorni": 1, "settimane": 7},
    fillers=("il",),
)

DUTCH = Language(
    code="nl",
    cues=("uiterlijk", "uiterlijk op", "voor", "voor het einde van"),
    nouns=("deadline",),
    trusted_cues=("tot", "geldig tot"),
    span_cues=("binnen",),
    weekdays=_days("maandag dinsdag woensdag donderdag vrijdag zaterdag zondag"),
    months=_days("januari februari maart april mei juni juli augustus september oktober november december"),
    days={"vandaag": 0, "vanavond": 0, "morgen": 1, "overmorgen": 2, "gisteren": -1},
    end_of=("eind", "einde", "eind van de"),
    next_words=("volgende",),
    week=("week",),
    month=("maand",),
    year=("jaar",),
    units={"uur": 1 / 24, "dagen": 1, "weken": 7},
    fillers=("op",),
)

PORTUGUESE = Language(
    code="pt",
    cues=("ate", "ate o", "ate a", "antes de", "o mais tardar"),
    nouns=("prazo", "data limite"),
    trusted_cues=(),
    span_cues=("dentro de", "nos proximos"),
    weekdays=_days(
        "segunda-feira|segunda terca-feira|terca quarta-feira|quarta quinta-feira|quinta sexta-feira|sexta"
        " sabado domingo"
    ),
    months=_days("janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro"),
    days={"hoje": 0, "amanha": 1, "ontem": -1},
    end_of=("fim de", "fim do", "final do"),
    next_words=("proxima", "proximo"),
    week=("semana",),
    month=("mes",),
    year=("ano",),
    units={"horas": 1 / 24, "dias": 1, "semanas": 7},
    fillers=("dia",),
)

LANGUAGES: tuple[Language, ...] = (ENGLISH, GERMAN, FRENCH, SPANISH, ITALIAN, DUTCH, PORTUGUESE)
