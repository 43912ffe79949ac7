"""Does a one-line summary read right? An independent check of a summary against its message's text.

A summary reads `sender: subject — first sentence`. The check finds the shown sentence in the
message's (whitespace-normalized) text and looks at where it stops: inside a URL, inside an address,
inside a word, right after an initial ("Craig R." before "Hughes"), a title ("Dr.") or an
abbreviation before a lower-case word ("e.g." before "your passport"); and whether it shows an "HTML
message" stub. It shares no code with the summarizer it checks. A sentence it cannot find in the
text (a Markdown link rewritten, say) is not judged.
"""

from __future__ import annotations

import re

__all__ = ["FLAWS", "summary_flaw"]

FLAWS = ("stub", "url", "address", "word", "initial", "abbreviation")
_STUB = re.compile(r"html (message|e-?mail)|does(n'?t| not) support html|html[- ](capable|compatible)", re.I)
_URL = re.compile(r"(https?://|ftp://|www\.)", re.I)
_TITLES = {"mr", "mrs", "ms", "dr", "prof", "st", "messrs", "rev", "gen", "capt", "sen", "gov"}
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "inc",
    "ltd",
    "co",
    "corp",
    "vs",
    "no",
    "etc",
    "approx",
    "cf",
    "a.m",
    "p.m",
    "u.s",
}
_ELLIPSES = ("…", "...")
# What follows a cut inside a token: a letter or digit, or a dot, slash or @ glued to more of them.
_MID_TOKEN = re.compile(r"\w|[./@:%?=&#~+-]+\w")


def summary_flaw(summary: str, text: str) -> str | None:
    """The kind of flaw in `summary` (one of `FLAWS`), or None when it reads right."""
    if " — " not in summary:
        return None
    shown = summary.split(" — ", 1)[1]
    if _STUB.search(shown):
        return "stub"
    cut = shown.endswith(_ELLIPSES)
    core = shown.removesuffix("…").removesuffix("...").rstrip() if cut else shown
    body = " ".join(text.split())
    position = body.find(core)
    words = core.split()
    if position < 0 or not words:
        return None
    following = body[position + len(core) :]
    last = words[-1]
    if _MID_TOKEN.match(following):  # the shown text stops inside a word, a URL or an address
        return "url" if _URL.search(last) else "address" if "@" in last else "word" if cut else None
    after = following.split()[0] if following.split() else ""
    return _abbreviation_flaw(words, after)


def _abbreviation_flaw(words: list[str], after: str) -> str | None:
    last = words[-1]
    if not last.endswith(".") or not after:
        return None
    bare = last.rstrip(".").lstrip("(\"'").lower()
    if re.fullmatch(r"[A-Z]\.", last) and len(words) > 1 and words[-2][:1].isupper() and after[:1].isupper():
        return "initial"
    if bare in _TITLES or (bare in _ABBREVIATIONS and after[:1].islower()):
        return "abbreviation"
    return None
