"""Finding the new text of a reply wherever it sits: above, below or between the quoted lines.

Mail clients quote in two ways. Prefixed quoting (`> `, supercite `JM> `, or `|` and `--]` after an
attribution line such as `On ... wrote:`) marks every quoted line, so the new text can be anywhere:
top-posted above the quote, bottom-posted under it, or inline between quoted paragraphs; only the
prefixed lines and their attribution are taken out. Unprefixed quoting (Outlook's
`-----Original Message-----` or `From:/Sent:/To:/Subject:` block, an attribution followed by plain
text) cannot show where the quote ends: under new text it runs to the end; at the top of the body
only the marker and its header fields are quote, since a bottom-posted answer or a forwarded message
follows. A reply made only of prefixed quotes keeps them, unprefixed, as its text. Signatures
(RFC 3676 `-- `, "Sent from my ...") and mailing-list footers under a `____` rule are split off the
end of the new text.
"""

from __future__ import annotations

import re

__all__ = ["split_reply"]

# Lines quoted with `>` (any depth) or supercite names (`JM> `, Gnus' indented `    Neale> `);
# always a quote, wherever they sit.
_QUOTED = re.compile(r"^[ \t]{0,8}(?:>|[A-Za-z][\w.-]{0,9}>(?=[ \t]|$))")
# A line that stands for quoted text the sender cut: `[...]`, `<snip>`.
_ELISION = re.compile(r"^\s*[\[<(]?\s*(\.\.\.|…|snip|snipped|schnipp|cut)\s*[\]>)]?\s*$", re.IGNORECASE)
# Rarer prefixes, trusted only on the lines right after an attribution.
_OTHER_PREFIX = re.compile(r"^[ \t]{0,3}(\||--\]|\]|\})")
_VERBS = (
    r"wrote|writes|said|says|schrieb|a écrit|escribió|escribio|ha scritto|scrisse|schreef|skrev|"
    r"kirjoitti|napisał|escreveu|написал|написала|quoting|zitiert|citando"
)
# An attribution line (short, ends with a colon) names the act of writing.
_ATTRIBUTION = re.compile(rf"\b(?:{_VERBS})\b", re.IGNORECASE)
# Attributions without a verb (mutt's `* Name <addr> [date]:`), trusted only right above a quote.
_SOURCE = re.compile(r"@|\d{1,2}:\d{2}|\b(19|20)\d\d\b")
# Attributions specific enough to mark an unprefixed original that runs to the end.
_STRICT_ATTRIBUTION = re.compile(
    r"^(On .{0,300} (wrote|writes):|Le .{0,300} a écrit ?:|Am .{0,300} schrieb .{0,200}:|"
    r"El .{0,300} escribió:|Il .{0,300} ha scritto:|Op .{0,300} schreef .{0,200}:|Em .{0,300} escreveu:)$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|"
    r"Messaggio originale|Oorspronkelijk bericht|Original-Nachricht)\s*-{2,}$",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\**(From|De|Von|Van|Da|Från|Fra|Od)\s?:", re.IGNORECASE)
_DATE_FIELD = re.compile(
    r"^\**(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|Fecha|Data)\s?:", re.IGNORECASE
)
_TO_FIELD = re.compile(r"^\**(To|Subject|An|Betreff|À|A|Objet|Para|Asunto|Oggetto|Aan|Onderwerp)\s?:", re.I)
_FIELD = re.compile(r"^\**[\w -]{1,25}\**\s?:")
_RULE = re.compile(r"^(_{10,}|\* \* \*)$")
_FORWARD = re.compile(r"forward|weitergeleitet|transf[ée]r[ée]|reenviad|inoltrat|doorgestuurd", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(Sent from my \w+.*|Get Outlook for \w+.*)$")
_SIGNATURE_REACH = 30
_CLIENT_LINE_REACH = 12
_FOOTER_REACH = 12


def split_reply(body: str) -> tuple[str, str, str]:
    """Split a body into (new text, quoted earlier message(s), signature or list footer)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted = _quoted_lines(lines)
    new = [line if not quoted[i] else None for i, line in enumerate(lines)]
    new_lines, signature = _signature([line for line in new if line is not None])
    quote_blocks = _blocks([line if quoted[i] else None for i, line in enumerate(lines)])
    text = "\n\n".join(_blocks(_with_gaps(new, new_lines)))
    if not text and quote_blocks:
        # Nothing but quotes (a forward without a comment): the quoted text is what there is to read.
        return _unquote("\n\n".join(quote_blocks)), "", signature
    return text, "\n\n".join(quote_blocks), signature


def _quoted_lines(lines: list[str]) -> list[bool]:
    """Which lines belong to a quote: prefixed blocks with their attribution, and unprefixed tails."""
    marked = [bool(_QUOTED.match(line) or _ELISION.match(line)) for line in lines]
    quoted = _wrapped_quotes(lines, marked)
    index, written = 0, False  # written: new text seen above this line
    while index < len(lines):
        if quoted[index] or not lines[index].strip():
            index += 1
            continue
        span = _attribution_span(lines, index)
        end = _attributed_quote_end(lines, quoted, index, span)
        if end is None and _unprefixed_original(lines, index, span):
            # Under a top-posted reply the original runs to the end; at the top, a bottom-posted
            # reply or a forwarded message follows the marker and its header fields.
            end = len(lines) if written else _header_end(lines, index, span)
        if end is None:
            written = True
            index += 1
            continue
        quoted[index:end] = [True] * (end - index)
        index = end
    return quoted


def _attributed_quote_end(lines: list[str], quoted: list[bool], index: int, span: int) -> int | None:
    """Where the attribution at `index` (`span` lines) and the prefixed block under it end, if any."""
    span = span or _field_block_span(lines, index)
    after = _next_filled(lines, index + span) if span else None
    if after is None:
        return None
    if quoted[after]:
        return after
    prefix = _OTHER_PREFIX.match(lines[after])
    return _prefixed_run(lines, after, prefix.group(1)) if prefix else None


def _unprefixed_original(lines: list[str], index: int, span: int) -> bool:
    """An attribution (`span` lines) or Outlook header with the original under it unprefixed."""
    return bool(span and _STRICT_ATTRIBUTION.match(_joined(lines, index, span))) or _original_starts(
        lines, index
    )


def _header_end(lines: list[str], index: int, span: int) -> int:
    """The end of an attribution (`span` lines), or of a marker line and the header fields under it."""
    if span and _STRICT_ATTRIBUTION.match(_joined(lines, index, span)):
        return index + span
    start = _next_filled(lines, index + 1) if _ORIGINAL.match(lines[index].strip()) else index
    start = index if start is None else start
    end = index + 1
    for position in range(start, min(len(lines), start + 12)):
        if not lines[position].strip():
            break
        if _is_field(lines[position]):
            end = position + 1  # wrapped field values in between come along
    return end


def _wrapped_quotes(lines: list[str], quoted: list[bool]) -> list[bool]:
    """Also mark the fragments a client wrapped out of a long quoted line without re-prefixing them."""
    for index in range(1, len(lines) - 1):
        fragment = lines[index].strip()
        if (
            quoted[index - 1]
            and quoted[index + 1]
            and not quoted[index]
            and 0 < len(fragment) < 40
            and len(lines[index - 1]) >= 60
        ):
            quoted[index] = True
    return quoted


def _attribution_span(lines: list[str], index: int) -> int:
    """1 or 2 when the line (or the line and the next, as clients wrap it) is an attribution."""
    if not any(line.rstrip().endswith(":") for line in lines[index : index + 2]):
        return 0
    for span in (1, 2):
        if index + span > len(lines) or _QUOTED.match(lines[index + span - 1]):
            break
        if span == 2 and (
            len(lines[index + 1].strip()) > 40 or lines[index].rstrip().endswith((".", "!", "?"))
        ):
            break
        joined = _joined(lines, index, span)
        if (
            len(joined) < 400
            and joined.endswith(":")
            and (_ATTRIBUTION.search(joined) or _STRICT_ATTRIBUTION.match(joined) or _SOURCE.search(joined))
        ):
            return span
    return 0


def _field_block_span(lines: list[str], index: int) -> int:
    """The length of a `Date:` / `From:` / `Message-ID:` block (nmh and exmh attribute this way)."""
    span = 0
    while index + span < len(lines) and span < 6 and _is_field(lines[index + span]):
        span += 1
    block = [line.strip() for line in lines[index : index + span]]
    named = any(_FROM_FIELD.match(line) for line in block) and any(_DATE_FIELD.match(line) for line in block)
    return span if span >= 2 and named else 0


def _is_field(line: str) -> bool:
    return ":" in line and bool(_FIELD.match(line.strip()))


def _original_starts(lines: list[str], index: int) -> bool:
    """Whether an unprefixed original message starts here (Outlook-style, runs to the end)."""
    line = lines[index].strip()
    if _ORIGINAL.match(line):
        return True
    if _RULE.match(line):
        after = _next_filled(lines, index + 1)
        return after is not None and _header_block(lines, after)
    if not _header_block(lines, index):
        return False
    before = _previous_filled(lines, index)
    # A forward's header block (or the middle of any header block) is content, not a quote.
    return before is None or not (_FORWARD.search(lines[before]) or _is_field(lines[before]))


def _header_block(lines: list[str], index: int) -> bool:
    """A `From:` line with a date and a recipient or subject field within the next four lines."""
    if not _FROM_FIELD.match(lines[index].strip()):
        return False
    window = [line.strip() for line in lines[index + 1 : index + 5]]
    return any(_DATE_FIELD.match(line) for line in window) and any(_TO_FIELD.match(line) for line in window)


def _prefixed_run(lines: list[str], start: int, prefix: str) -> int:
    """The end of the block of lines starting with `prefix` (blank lines inside it included)."""
    end = index = start
    while index < len(lines):
        stripped = lines[index].lstrip(" \t")
        if stripped.startswith(prefix):
            end = index + 1
        elif stripped:
            break
        index += 1
    return end


def _signature(lines: list[str]) -> tuple[list[str], str]:
    """The new lines without their trailing list footer and signature, and those two joined."""
    parts: list[str] = []
    markers = (
        (_is_footer_rule, _FOOTER_REACH, True),
        # The first `-- `: a list may add its own footer under the sender's signature.
        (lambda line: line.rstrip() in ("--", "-- "), _SIGNATURE_REACH, True),
        (lambda line: bool(_SIGNATURE.match(line.rstrip())), _CLIENT_LINE_REACH, False),
    )
    for is_marker, reach, delimiter in markers:
        window = range(max(len(lines) - reach, 0), len(lines))
        index = next((i for i in window if is_marker(lines[i])), None)
        if index is not None:
            parts.insert(0, "\n".join(lines[index + 1 if delimiter else index :]).strip())
            lines = lines[:index]
    return lines, "\n\n".join(part for part in parts if part)


def _is_footer_rule(line: str) -> bool:
    return bool(re.fullmatch(r"_{10,}", line.strip()))


def _with_gaps(marked: list[str | None], kept: list[str]) -> list[str | None]:
    """`marked` cut to the kept new lines: the signature and footer become gaps too."""
    out: list[str | None] = []
    remaining = len(kept)
    for line in marked:
        if line is not None and remaining:
            out.append(line)
            remaining -= 1
        else:
            out.append(None)
    return out


def _blocks(marked: list[str | None]) -> list[str]:
    """The runs of non-None lines, each stripped; blank runs dropped."""
    blocks, current = [], []
    for line in [*marked, None]:
        if line is None:
            block = re.sub(r"\n{3,}", "\n\n", "\n".join(current)).strip()
            if block:
                blocks.append(block)
            current = []
        else:
            current.append(line.rstrip())
    return blocks


def _unquote(text: str) -> str:
    """One level of quote prefix removed from each line."""
    return "\n".join(_QUOTED.sub("", line, count=1).removeprefix(" ") for line in text.split("\n")).strip()


def _joined(lines: list[str], index: int, span: int) -> str:
    return " ".join(line.strip() for line in lines[index : index + span])


def _next_filled(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _previous_filled(lines: list[str], index: int) -> int | None:
    return next((i for i in range(index - 1, -1, -1) if lines[i].strip()), None)
