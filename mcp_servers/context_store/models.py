"""The context store's data: items, events and search hits, plus the rules that validate input.

Namespaces are dotted lowercase names (`signals.email`); namespace globs use `*` and `?` over the
same alphabet and match like `fnmatch.fnmatchcase` (and SQLite `GLOB`, which behaves the same on
that alphabet). Every check raises `InvalidInput` with a message that says what to change.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, JsonValue

from .errors import InvalidInput

__all__ = [
    "Event",
    "EventPage",
    "Item",
    "ItemInput",
    "Op",
    "SearchHit",
    "Written",
    "check_consumer",
    "check_depth",
    "check_glob",
    "check_id",
    "check_namespace",
    "check_tags",
    "encode_json",
    "exact_and_globs",
    "from_epoch",
    "namespace_clause",
    "to_epoch",
]

NAMESPACE_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_-]+)*$")
GLOB_RE = re.compile(r"^[a-z0-9_.*?-]+$")
CONSUMER_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_ID_CHARS = 512
MAX_TAGS = 32
MAX_TAG_CHARS = 64

Op = Literal["store", "delete", "expire"]
MAX_TTL_SECONDS = 100 * 366 * 86_400  # a century: further expiries would overflow dates read back


def _inside_the_calendar(moment: datetime) -> datetime:
    """Refuse an expiry in year 1 or 9999: stored as epoch seconds, it could not be read back as a date."""
    if not 2 <= moment.year <= 9998:
        raise ValueError(f"{moment.isoformat()} is at the edge of the calendar: give a year from 2 to 9998")
    return moment


Ttl = Annotated[float, Field(gt=0, le=MAX_TTL_SECONDS)]
Expiry = Annotated[datetime, AfterValidator(_inside_the_calendar)]


class ItemInput(BaseModel):
    """One item to store; `id` is the upsert key within its namespace (a uuid4 when absent)."""

    namespace: str = Field(description="Dotted namespace, e.g. 'signals.email'")
    id: str | None = Field(None, description="Upsert key within the namespace; generated when absent")
    data: JsonValue = Field(None, description="Any JSON value")
    text: str | None = Field(None, description="Searchable text (lexical and semantic)")
    tags: list[str] = Field(default_factory=list, description="Labels to filter on")
    metadata: dict[str, JsonValue] = Field(default_factory=dict, description="Free-form JSON object")
    ttl_seconds: Ttl | None = Field(None, description="Seconds until the item expires (at most a century)")
    expires_at: Expiry | None = Field(None, description="When the item expires (instead of ttl)")


class Item(BaseModel):
    """A stored item as read back."""

    # `data` and `metadata` are JSON the database held, parsed, and are taken as they are: checked
    # again as `JsonValue` (a Python call per value, to build and again to answer) they cost 9x to
    # build and 2.4x to serialize, on every item read. Their schema is the same (any JSON value).
    namespace: str
    id: str
    data: Any = None
    text: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None


class Event(BaseModel):
    """One entry of the event log: what happened to which item, and when."""

    seq: int
    namespace: str
    id: str
    op: Op
    at: datetime


class EventPage(BaseModel):
    """A page of events after a cursor; `next_after` is the cursor to pass next time."""

    events: list[Event]
    next_after: int = Field(description="Pass as `after` to continue; ack it once processed")
    has_more: bool = Field(description="True when more events follow this page")
    gap: bool = Field(False, description="True when events after `after` were compacted away: resynchronise")
    items: list[Item] = Field(
        default_factory=list,
        description="With `with_items`: the items the page's store events wrote, as they are now "
        "(once each; one deleted since is left out)",
    )


class Written(BaseModel):
    """What one write did: the item's key and the position (`seq`) of its event in the log."""

    namespace: str
    id: str
    seq: int


class SearchHit(BaseModel):
    """One search result with its score (higher is better)."""

    item: Item
    score: float


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not NAMESPACE_RE.match(namespace):
        raise InvalidInput(
            f"invalid namespace {namespace!r}: use dotted lowercase segments of [a-z0-9_-], "
            "e.g. 'signals.email'"
        )
    return namespace


def check_glob(pattern: str) -> str:
    if not isinstance(pattern, str) or not GLOB_RE.match(pattern) or ".." in pattern:
        raise InvalidInput(
            f"invalid namespace pattern {pattern!r}: use namespace characters [a-z0-9_.-] with "
            "'*' and '?' wildcards, e.g. 'signals.*'"
        )
    return pattern


def exact_and_globs(patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The checked namespace patterns split into names without a wildcard (once each) and globs.
    A backend compares the names for equality: that lets it read the namespace index in
    `updated_at` order and stop at the limit, where a glob over the same namespace is a range of
    the index that SQLite sorted whole, data and all, first (the newest 300 of 6,000 signals took
    58 ms instead of 2, the newest 1,000 of 7,000 mails 411 ms instead of 29)."""
    checked = [check_glob(pattern) for pattern in patterns]
    exact = [p for p in checked if "*" not in p and "?" not in p]
    return list(dict.fromkeys(exact)), [p for p in checked if p not in exact]


def namespace_clause(column: str, patterns: Sequence[str]) -> tuple[str, list[str]]:
    """SQLite SQL (and its parameters) matching `column` against any of the namespace globs, the
    names without a wildcard by equality (`exact_and_globs`)."""
    exact, globs = exact_and_globs(patterns)
    terms = [f"{column} GLOB ?" for _ in globs]
    if len(exact) == 1:
        terms.insert(0, f"{column} = ?")
    elif exact:
        terms.insert(0, f"{column} IN ({', '.join('?' for _ in exact)})")
    return "(" + " OR ".join(terms) + ")", [*exact, *globs]


def check_id(item_id: str) -> str:
    if not isinstance(item_id, str) or not 0 < len(item_id) <= MAX_ID_CHARS:
        raise InvalidInput(f"invalid id {item_id!r}: use a non-empty string of at most {MAX_ID_CHARS} chars")
    if any(ord(char) < 32 for char in item_id):
        raise InvalidInput(f"invalid id {item_id!r}: control characters are not allowed")
    return item_id


def check_consumer(name: str) -> str:
    if not isinstance(name, str) or not CONSUMER_RE.match(name):
        raise InvalidInput(f"invalid consumer name {name!r}: use 1-128 chars of [A-Za-z0-9_.:-]")
    return name


def check_tags(tags: list[str]) -> list[str]:
    if not tags:
        return []
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"too many tags ({len(tags)}): at most {MAX_TAGS}")
    for tag in tags:
        if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_CHARS:
            raise InvalidInput(
                f"invalid tag {tag!r}: use a non-empty string of at most {MAX_TAG_CHARS} chars"
            )
    return sorted(set(tags))


def check_depth(value: object, most: int, what: str) -> None:
    """Refuse JSON nested deeper than `most` levels (walked without recursion, so any depth is safe)."""
    level: list[tuple[object, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        if isinstance(node, dict | list):
            if depth > most:
                raise InvalidInput(
                    f"{what} is nested more than {most} levels deep: flatten it (store nested parts as "
                    "separate items or as a JSON string)"
                )
            children = node.values() if isinstance(node, dict) else node
            level.extend((child, depth + 1) for child in children)


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def encode_json(value: object, what: str) -> str:
    """Compact JSON for `value`; NaN, infinities and non-JSON types are refused."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{what} is not JSON ({exc}): send objects, arrays, strings, finite numbers, booleans or null"
        ) from exc


def to_epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    value = moment.timestamp()
    if not math.isfinite(value):
        raise InvalidInput(f"invalid time {moment!r}")
    return value


def from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)
