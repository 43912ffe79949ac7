"""The nodes of a parsed Gmail search and what each `operator:value` term becomes (`term`).

Text terms (`from:`, `to:`, `cc:`, `bcc:`, `subject:`, `filename:`, `list:`, `deliveredto:`, free
words and phrases) match whole words, case and accents folded, as Gmail does. Labels (`label:`,
`in:`, `is:`, `category:`) are compared by their Gmail key: lower case, spaces as hyphens. Dates are
kept as written (`DateTerm`): a calendar day is midnight in the search's time zone, and
`older_than`/`newer_than` count back from the search's clock, both supplied when the tree is run.
What cannot be run on a mailbox index is refused here, by name, with what to do instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "TEXT_FIELDS",
    "And",
    "Anywhere",
    "DateTerm",
    "HasAttachment",
    "HasUserLabels",
    "LabelTerm",
    "MessageIdTerm",
    "Near",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "SizeTerm",
    "Text",
    "label_key",
    "term",
]


class QueryError(ValueError):
    """The query is malformed or uses a construct this server cannot run."""


@dataclass(frozen=True)
class Text:
    field: str  # "" = anywhere; else one of TEXT_FIELDS
    value: str
    quoted: bool = False


@dataclass(frozen=True)
class Near:
    left: str
    right: str
    distance: int


@dataclass(frozen=True)
class LabelTerm:
    key: str  # label_key of the label
    written: str  # as the user wrote it, e.g. in:inbox


@dataclass(frozen=True)
class Anywhere:
    key: str = "anywhere"


@dataclass(frozen=True)
class HasAttachment:
    pass


@dataclass(frozen=True)
class HasUserLabels:
    pass


@dataclass(frozen=True)
class SizeTerm:
    larger: bool
    size: int


@dataclass(frozen=True)
class DateTerm:
    after: bool  # True: on or after; False: before
    day: date | None = None  # midnight in the search's zone
    epoch: int | None = None  # seconds since 1970
    ago: timedelta | None = None  # before/after now - ago
    written: str = ""


@dataclass(frozen=True)
class MessageIdTerm:
    value: str


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = (
    Text | Near | LabelTerm | Anywhere | HasAttachment | HasUserLabels | SizeTerm | DateTerm | MessageIdTerm
    | And | Or | Not
)  # fmt: skip

TEXT_FIELDS = ("from", "to", "cc", "bcc", "subject", "filename", "list", "deliveredto")
_IN = {"inbox": "inbox", "sent": "sent", "draft": "draft", "drafts": "draft", "trash": "trash",
       "spam": "spam", "starred": "starred", "important": "important", "unread": "unread"}  # fmt: skip
_IS = {"unread": "unread", "starred": "starred", "important": "important"}
_CATEGORIES = {"primary": "category_personal", "personal": "category_personal", "social": "category_social",
               "promotions": "category_promotions", "updates": "category_updates",
               "forums": "category_forums"}  # fmt: skip
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
_PERIODS = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "m": timedelta(days=30),
    "y": timedelta(days=365),
}
_NOT_INDEXED = {
    "is:snoozed": "snoozing is Gmail's own state, not in the mailbox",
    "is:muted": "muting is Gmail's own state, not in the mailbox",
    "is:chat": "chats are not mail",
    "in:chats": "chats are not mail",
    "in:snoozed": "snoozing is Gmail's own state, not in the mailbox",
    "in:scheduled": "scheduled sends are Gmail's own state, not in the mailbox",
    "category:reservations": "Gmail's reservation category is not a label",
    "category:purchases": "Gmail's purchase category is not a label",
}
_HAS_LINKS = ("drive", "document", "spreadsheet", "presentation", "youtube")
SUPPORTED = (
    "from: to: cc: bcc: subject: label: in: is: has: filename: list: deliveredto: category: "
    "larger: smaller: size: before: after: older: newer: older_than: newer_than: rfc822msgid:, "
    'OR, -, {}, ( ), "phrases", AROUND'
)


def label_key(name: str) -> str:
    """How Gmail compares label names: case folded, spaces as hyphens (`My Label` = `my-label`)."""
    return re.sub(r"\s+", "-", name.strip()).lower()


def term(op: str, value: str, quoted: bool) -> Node:
    """The node for `op:value` (`op` "" for a free word or phrase)."""
    if op in ("", *TEXT_FIELDS):
        if not re.search(r"\w", value):
            raise QueryError(f"{op + ':' if op else ''}{value!r} has no letters or digits to search for")
        return Text(op, value, quoted)
    lowered = value.lower()
    if (refusal := _NOT_INDEXED.get(f"{op}:{lowered}")) is not None:
        raise QueryError(f"{op}:{value} cannot be searched here: {refusal}; remove it from the query")
    for table, build in _BUILDERS:
        if op in table:
            return build(op, value, lowered)
    raise QueryError(
        f"unsupported search term {op}:{value}; supported: {SUPPORTED}. "
        f'To search for the text itself, quote it: "{op}:{value}"'
    )


def _label(op: str, value: str, lowered: str) -> Node:
    if op == "in" and lowered in ("anywhere", "all"):
        return Anywhere()
    if op == "in" and lowered in _IN:
        return LabelTerm(_IN[lowered], f"in:{value}")
    return LabelTerm(label_key(value), f"{op}:{value}")


def _is(op: str, value: str, lowered: str) -> Node:
    if lowered == "read":
        return Not(LabelTerm("unread", "is:unread"))
    if lowered in _IS:
        return LabelTerm(_IS[lowered], f"is:{lowered}")
    raise QueryError(
        f"is:{value} is not a state this server knows: use is:unread, is:read, is:starred, is:important"
    )


def _has(op: str, value: str, lowered: str) -> Node:
    if lowered == "attachment":
        return HasAttachment()
    if lowered == "userlabels":
        return HasUserLabels()
    if lowered == "nouserlabels":
        return Not(HasUserLabels())
    if lowered in _HAS_LINKS:
        raise QueryError(f"has:{lowered} needs Google Drive links, which the index does not track; remove it")
    raise QueryError(
        f"has:{value} cannot be searched here (star colours and links are Gmail's own): "
        "use has:attachment, has:userlabels or has:nouserlabels"
    )


def _category(op: str, value: str, lowered: str) -> Node:
    if lowered not in _CATEGORIES:
        raise QueryError(f"category:{value} is not a Gmail category: use one of {', '.join(_CATEGORIES)}")
    return LabelTerm(_CATEGORIES[lowered], f"category:{lowered}")


def _size(op: str, value: str, lowered: str) -> Node:
    match = re.fullmatch(r"(\d{1,12})([kmg]?b?)", lowered)
    if match is None or match.group(2) not in _UNITS:
        raise QueryError(f"{op}:{value} is not a size: use bytes or K/M, e.g. {op}:10M")
    return SizeTerm(op != "smaller", int(match.group(1)) * _UNITS[match.group(2)])


def _date(op: str, value: str, lowered: str) -> Node:
    after = op in ("after", "newer")
    if re.fullmatch(r"\d{9,11}", value):
        return DateTerm(after, epoch=int(value), written=f"{op}:{value}")
    for pattern, order in (
        (r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", "ymd"),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"),
    ):
        if match := re.fullmatch(pattern, value):
            numbers = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                day = date(numbers["y"], numbers["m"], numbers["d"])
            except ValueError:
                break
            return DateTerm(after, day=day, written=f"{op}:{value}")
    raise QueryError(f"{op}:{value} is not a date: use YYYY/MM/DD (or MM/DD/YYYY, or seconds since 1970)")


def _relative(op: str, value: str, lowered: str) -> Node:
    match = re.fullmatch(r"(\d{1,5})([hdmy])", lowered)
    if match is None:
        raise QueryError(
            f"{op}:{value} is not a period: use e.g. {op}:2d (d days, m months, y years, h hours)"
        )
    return DateTerm(
        op == "newer_than", ago=int(match.group(1)) * _PERIODS[match.group(2)], written=f"{op}:{lowered}"
    )


def _message_id(op: str, value: str, lowered: str) -> Node:
    return MessageIdTerm(value.strip().strip("<>"))


_BUILDERS = (
    (("label", "in"), _label),
    (("is",), _is),
    (("has",), _has),
    (("category",), _category),
    (("larger", "smaller", "size"), _size),
    (("before", "after", "older", "newer"), _date),
    (("older_than", "newer_than"), _relative),
    (("rfc822msgid",), _message_id),
)
