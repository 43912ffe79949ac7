"""One-line summaries of mail: the sender, the subject and the first real sentence of the new text.

A sentence ends at `.`, `!`, `?` or an ellipsis followed by a space, at a blank line, or at the end
of a line that is not wrapped prose (a short line, a line ending in a colon, a line before a list
item). It does not end inside an abbreviation ("e.g.", "Dr.", "Inc." before a lower-case word), an
initial ("Craig R. Hughes"), a list number, a decimal ("3.5"), a URL ("http://www.example.org") or
an address, since those never have a space after their dots. Greetings, "this is an HTML message"
stubs and lines that are only a link are skipped; Markdown links keep their words. A summary too long
for one line is cut between words, never inside a URL, and ends with an ellipsis.
"""

from __future__ import annotations

import re

from orchestrator.feeds.mail import Email

__all__ = ["first_sentence", "sentences", "shorten", "summarize"]

LINE_LIMIT = 160
GREETING = re.compile(
    r"^(hi|hello|hey|dear|good (morning|afternoon|evening))\b([^.!?]{0,40}[,!:]?|[^!?]{0,40}[,!:])$", re.I
)
# Never a sentence end: titles before a name, and abbreviations that introduce what follows.
_ALWAYS_ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof rev hon sr jr st mt gen col capt lt sgt gov sen rep pres messrs mme mlle "
    "e.g i.e cf vs viz approx ca dept tel fax ext "
    "z.b d.h u.a bzw usw ggf vgl evtl inkl s.o s.u p.ex c.-à-d".split()
)
# A sentence end only when a capitalized word follows: "Acme Inc. said" vs "Acme Inc. We said".
_CAPITAL_ABBREVIATIONS = frozenset(
    "inc ltd co corp llc plc bros etc al jan feb mar apr jun jul aug sep sept oct nov dec "
    "mon tue tues wed thu thur thurs fri sat sun est min max no nr nos vol pp p fig ch sec para ref".split()
)
_END = re.compile(r"(?:[.!?]+|…|\.\.\.+)[\"'”’»)\]]*(?=\s|$)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•–]\s|\d{1,3}[.)]\s|[a-z][.)]\s)")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_ANGLE_URL = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\w+")
_STUB = re.compile(
    r"\bhtml[- ](message|e-?mail)\b|\b(does not|doesn'?t|cannot|can'?t) (support|display|read|show) html"
    r"|html[- ](capable|compatible|enabled)|\b(view|read|see) (this|the) (e-?mail|message|newsletter) "
    r"(online|in (your|a) (web )?browser)",
    re.IGNORECASE,
)
_FIELD_LINE = re.compile(
    r"[\w-]{1,20}: *\S+|(Date|From|To|Cc|Sent|Subject|Message-ID|Reply-To|Organization|Forwarded-by|Resent-From|X-[\w-]+): .*",
    re.I,
)
_FIELD_START = re.compile(r"[A-Z][\w-]{0,20}: ")  # "Date: ...", "Note: ..." start a line of their own
_WORD = re.compile(r"[^\W\d_]+")
_WRAP_WIDTH = 50


def summarize(email: Email) -> str:
    """One line: sender, subject, and the first sentence of the new text."""
    sender = email.sender.display if email.sender else "unknown sender"
    subject = " ".join(email.subject.split())
    line = f"{sender}: {subject or '(no subject)'}"
    first = first_sentence(email.text)
    if first and first.lower().rstrip(".!?") != subject.lower().rstrip(".!?"):
        line += f" — {first}"
    return shorten(line)


def first_sentence(text: str) -> str:
    """The first sentence worth showing: not a greeting, a stub or a bare link."""
    for sentence in sentences(text[:4000]):
        if GREETING.match(sentence) or _STUB.search(sentence):
            continue
        words = _WORD.findall(_URL.sub(" ", sentence))
        if not words or (len(words) < 2 and _URL.search(sentence)) or _FIELD_LINE.fullmatch(sentence):
            continue  # "* * *", "http://...", "Date: 2002-10-08", "To: all staff"
        return sentence
    return ""


def sentences(text: str) -> list[str]:
    """The sentences of a plain-text body, whitespace normalized, in order."""
    text = _ANGLE_URL.sub(r"\1", _MARKDOWN_LINK.sub(r"\1", text))
    found: list[str] = []
    for unit in _units(text):
        start = 0
        for match in _END.finditer(unit):
            if _ends_sentence(unit, match, start):
                found.append(unit[start : match.end()].strip())
                start = match.end()
        found.append(unit[start:].strip())
    return [sentence for sentence in found if sentence]


def shorten(line: str, limit: int = LINE_LIMIT) -> str:
    """`line` cut to `limit` characters between words, with an ellipsis when cut."""
    if len(line) <= limit:
        return line
    kept = ""
    for word in line.split(" "):
        candidate = f"{kept} {word}" if kept else word
        if len(candidate) > limit - 1:
            break
        kept = candidate
    kept = kept or line[: limit - 1]  # one word longer than the line: nothing to cut between
    return kept.rstrip(" ,;:—–-") + "…"


def _units(text: str) -> list[str]:
    """Paragraphs with wrapped lines joined; lines that are not wrapped prose stand alone."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.replace("\r", "")):
        lines = [" ".join(line.split()) for line in paragraph.split("\n")]
        current: list[str] = []
        for index, line in enumerate(lines):
            if line:
                current.append(line)
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if current and (not following or _stands_alone(line, following)):
                units.append(" ".join(current))
                current = []
    return units


def _stands_alone(line: str, following: str) -> bool:
    """Whether a line ends its sentence although no punctuation says so."""
    if (
        line.endswith(":")
        or _LIST_ITEM.match(following)
        or _FIELD_START.match(following)
        or GREETING.match(line)
    ):
        return True
    return not following[:1].islower() and len(line) < _WRAP_WIDTH  # a lower-case line continues


def _ends_sentence(unit: str, match: re.Match[str], start: int) -> bool:
    """Whether the punctuation `match` ends the sentence that began at `start`."""
    punctuation = match.group().rstrip("\"'”’»)]")
    rest = unit[match.end() :].lstrip()
    capital_next = rest[:1].isupper() or rest[:1] in "\"'“‘«("
    if "!" in punctuation or "?" in punctuation:
        return True
    if punctuation != ".":  # an ellipsis trails off ("Well... I think") unless a new sentence starts
        return not rest or (capital_next and len(unit[start : match.start()].split()) >= 3)
    before = unit[start : match.start()].strip()
    token = before.rsplit(None, 1)[-1] if before else ""
    token = token.lstrip("\"'“‘«([").lower()
    if token in _ALWAYS_ABBREVIATIONS:
        return False
    if re.fullmatch(r"[^\W\d_]", token):  # an initial: "Craig R. Hughes"
        return False
    if token.isdigit() and before == token:  # "1. Tag the release"
        return False
    if token in _CAPITAL_ABBREVIATIONS or re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", token):
        return capital_next or not rest  # "U.S.", "a.m.", "Inc." end a sentence only before a capital
    return True
