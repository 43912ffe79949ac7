"""Turning mail bytes and headers into clean text: charsets, RFC 2047, HTML, quotes and signatures.

Everything here is lenient by design: a wrong or unknown charset falls back to UTF-8, then
Windows-1252, then Latin-1 (which never fails), and each fallback is reported as a defect string so
that the caller can see what was guessed. Quoted replies and signatures are split off the new text
with the conventions real clients use (`On ... wrote:`, `-----Original Message-----`, `> ` blocks,
the RFC 3676 `-- ` delimiter).
"""

from __future__ import annotations

import codecs
import re
from email.header import Header, decode_header

import html2text

__all__ = ["decode_bytes", "decode_header_value", "html_to_text", "split_reply"]

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


def html_to_text(html: str) -> str:
    """Readable plain text from HTML mail; links kept, images and layout dropped."""
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.single_line_break = False
    try:
        text = converter.handle(html)
    except Exception:  # html2text gives up on some broken markup: strip tags instead
        text = re.sub(r"<[^>]*>", " ", html)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_REPLY_HEADER = re.compile(
    r"^(On .{0,300} wrote:|Le .{0,300} a écrit ?:|Am .{0,300} schrieb .{0,200}:|"
    r"-{2,}\s*Original Message\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|Sent from my \w+.*|Get Outlook for \w+.*)$")


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _REPLY_HEADER.match(line.strip()):
            return index
    # A trailing block made only of `>` lines (and blank lines) is a bottom-less top-post quote.
    tail = len(lines)
    while tail > 0 and (lines[tail - 1].startswith(">") or not lines[tail - 1].strip()):
        tail -= 1
    if tail < len(lines) and any(line.startswith(">") for line in lines[tail:]):
        return tail
    return None


def split_reply(text: str) -> tuple[str, str, str]:
    """Split a body into (new text, quoted earlier message, signature)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted = ""
    start = _quote_start(lines)
    if start is not None:
        quoted = "\n".join(lines[start:]).strip()
        lines = lines[:start]
    signature = ""
    for index in range(len(lines) - 1, -1, -1):
        if _SIGNATURE.match(lines[index].rstrip()) and len(lines) - index <= 12:
            # The RFC 3676 delimiter itself is not part of the signature.
            first = index + 1 if lines[index].rstrip() == "--" else index
            signature = "\n".join(lines[first:]).strip()
            lines = lines[:index]
            break
    return "\n".join(lines).strip(), quoted, signature
