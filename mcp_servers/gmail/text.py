"""Turning mail bytes and headers into clean text: charsets, RFC 2047, HTML, quotes and signatures.

Everything here is lenient by design: a wrong or unknown charset falls back to UTF-8, then
Windows-1252, then Latin-1 (which never fails), and each fallback is reported as a defect string so
that the caller can see what was guessed. HTML becomes plain text with its entities decoded, and a
text/plain part that only says "this is an HTML message" is recognized (`is_stub`) so that the HTML
is read instead. Splitting a reply into new text, quote and signature lives in `replies`.
"""

from __future__ import annotations

import codecs
import html as htmllib
import re
from email.header import Header, decode_header

import html2text

from .replies import split_reply

__all__ = ["decode_bytes", "decode_header_value", "html_to_text", "is_stub", "plain_to_text", "split_reply"]

_FALLBACKS = ("utf-8", "cp1252", "latin-1")
# Mail labels these often; the superset codec decodes what the label says and more.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "ks_c_5601-1987": "cp949", "euc-kr": "cp949"}
_SUPERSETS |= {"iso-8859-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "shift_jis": "cp932"}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode `data` labelled `charset`, falling back (and saying so in `defects`) when it lies."""
    codec = _codec(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"unknown charset {charset!r}")
    candidates = [codec] if codec else []
    candidates += [c for c in _FALLBACKS if c != codec]
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if codec and candidate != codec and defects is not None:
            defects.append(f"body declared {charset} but was not; decoded as {candidate}")
        return text
    return data.decode("latin-1")  # unreachable: latin-1 decodes every byte


def _unsurrogate(value: str) -> str:
    """Undo the surrogateescape the bytes parser applies to raw 8-bit header bytes."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")


def decode_header_value(value: object) -> str:
    """A header as readable text: RFC 2047 words decoded, raw 8-bit guessed, folding removed."""
    if value is None:
        return ""
    if isinstance(value, Header):
        pieces = decode_header(value)
    else:
        raw = _unsurrogate(str(value))
        try:
            pieces = decode_header(raw)
        except Exception:  # malformed encoded words: keep the raw text
            pieces = [(raw, None)]
    out: list[str] = []
    for chunk, charset in pieces:
        if isinstance(chunk, bytes):
            chunk = decode_bytes(chunk, charset or "utf-8")
        out.append(chunk)
    joined = "".join(out) if len(pieces) > 1 else (out[0] if out else "")
    return re.sub(r"\s*\r?\n\s*", " ", joined).strip()


_CELL_END = re.compile(r"(</t[dh]\s*>)", re.IGNORECASE)
_ROW_END = re.compile(r"(</tr\s*>)", re.IGNORECASE)
_EMPTY_LINK = re.compile(r"\[\s*\]\([^()\s]*\)")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")


def html_to_text(html: str) -> str:
    """Readable plain text from HTML mail: links kept, images and layout dropped, every entity
    (named or numeric) decoded to its character, so accents survive, and no-break spaces made plain."""
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.ignore_mailto_links = True  # `Ada <ada@example.org>`, not a Markdown link to itself
    converter.unicode_snob = True  # é stays é rather than becoming e
    converter.single_line_break = False
    # Layout tables hold most HTML-only mail: keep their cells and rows apart once the tags go.
    markup = _ROW_END.sub(r"\1<br>", _CELL_END.sub(r"\1 ", html))
    try:
        text = converter.handle(markup)
    except Exception:  # html2text gives up on some broken markup: strip tags instead
        text = _stripped_markup(html)
    text = _EMPTY_LINK.sub("", text)  # a linked image with its image dropped leaves nothing to read
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_HTML_DOCUMENT = re.compile(
    r"^\s*(<!--.*?-->\s*)?<(!doctype html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)
_NUMERIC_REFERENCE = re.compile(r"&#(?:(\d{2,7})|[xX]([0-9a-fA-F]{2,6}));")


def plain_to_text(text: str) -> str:
    """A text/plain body as readable text: an HTML document sent as text/plain is converted, and the
    numeric character references HTML-to-text gateways leave behind (`&#8220;`) become characters."""
    if _HTML_DOCUMENT.match(text[:2000]):
        return html_to_text(text)
    return _NUMERIC_REFERENCE.sub(_character, text) if "&#" in text else text


def _character(match: re.Match[str]) -> str:
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    if code == 0xFEFF:  # a byte-order mark shows nothing
        return ""
    printable = code in (9, 10, 13) or 32 <= code < 0xD800 or 0xE000 <= code <= 0x10FFFF
    return chr(code) if printable else match.group()


def _stripped_markup(html: str) -> str:
    without_hidden = re.sub(r"(?is)<(script|style|head|title)\b.*?</\1\s*>", " ", html)
    return htmllib.unescape(re.sub(r"<[^>]*>", " ", without_hidden))


_STUB = re.compile(
    r"this is an? (html|multi-?part|mime)[- ]?(formatted |encoded )?(e-?mail|message)"
    r"|^\W*html (e-?mail|message)\W*$"
    r"|(e-?mail|mail) ?(client|program|reader|software|viewer|application)s? (does not|doesn'?t|do not|don'?t|"
    r"cannot|can'?t|may not|might not|is unable to|are unable to) (support|display|read|show|view|render)"
    r"|(html|browser)[- ](capable|compatible|enabled) (e-?mail|mail|reader|client|program|browser)"
    r"|(view|read|see|open) (this|the) (e-?mail|message|newsletter|mail) (online|in (your|a) (web )?browser)"
    r"|(can'?t|cannot|unable to|trouble|problems?) (read|see|view|display)(ing)? (this|the) (e-?mail|message)"
    r"|this (e-?mail|message) (is|was) (in|sent in|written in|formatted in|composed in) html"
    r"|diese (e-?mail|nachricht) (ist im|enthält|wurde im) html"
    r"|ce (message|courriel|mail) est (au|en) format html",
    re.IGNORECASE | re.MULTILINE,
)
STUB_LIMIT = 400


def is_stub(text: str) -> bool:
    """Whether a text/plain part only says "this is an HTML message" (or "view it in a browser")."""
    stripped = text.strip()
    return not stripped or (len(stripped) <= STUB_LIMIT and _STUB.search(stripped) is not None)
