"""Hypothesis strategies for a tool's arguments, built from its JSON Schema (the `inputSchema` a server lists).

`arguments(schema, hints)` draws either schema-valid-ish arguments, whose every value is a hostile
member of its type (strings up to a megabyte, control characters, RTL marks, dates at both ends of
the calendar, integers far past 64 bits, nested JSON, RRULEs such as FREQ=SECONDLY), or
schema-invalid ones (a required key missing, an unknown key, a value of the wrong type, arguments
that are not an object). It covers what Pydantic emits for tool signatures: `type` string, integer,
number, boolean, array, object (with `properties`, `required`, `additionalProperties`), `enum`,
`anyOf` and `format` date-time, date, time and duration. `hints` maps a property name to values that
mean something to the server under test (ids of real messages and events), so that write paths run
on real data instead of stopping at "not found". `frame_extremes` adds what JSON can carry but the
MCP SDK refuses to parse (lone surrogates, nesting beyond 200 levels): those never reach a tool and
are answered at the frame level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

__all__ = ["arguments", "invalid_arguments", "valid_arguments"]

Schema = Mapping[str, Any]
Hints = Mapping[str, Sequence[Any]]

_SHARP = [
    "\x00", "\r", "\n", "\r\n", "\t", "\x1b[31m", "\u202e", "\u200f", "\u200b", "\ufeff", "\u2028",
    "\U0001f600", "e\u0301", "\uffff", "'", '"', "\\", "%s", "{0}", "<script>", "../", "*", "?", "[", "%",
    "_", " OR 1=1", "'; DROP TABLE items; --", "NEAR(", "\"unterminated", "AND", "-", ":", "@", ",",
]  # fmt: skip
_LONE_SURROGATES = ["\ud800", "\udfff", "\udc00\ud800"]
_HUGE_SIZES = [4_097, 65_537, 1_000_000]
_HUGE_PIECES = ["a", "é", "\U0001f600", "a\r\n", "\x00", "word ", "\u202e"]
_INTEGERS = [0, -1, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, -(10**30)]
_NUMBERS = [0.0, -0.0, 5e-324, 1e308, -1e308, 1.7976931348623157e308, 0.1, 1e-9, 86400.5, 1e20]

# Values that reach deeper into a server than random text: what each kind of argument means.
_RRULES = [
    "FREQ=SECONDLY", "RRULE:FREQ=SECONDLY", "FREQ=MINUTELY;INTERVAL=1", "FREQ=SECONDLY;COUNT=100000",
    "FREQ=HOURLY;BYSECOND=0,1,2,3,4,5,6,7,8,9", "FREQ=YEARLY;COUNT=100000", "FREQ=DAILY;UNTIL=99991231",
    "FREQ=WEEKLY;BYDAY=XX", "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=5", "FREQ=DAILY;INTERVAL=0",
    "FREQ=DAILY;INTERVAL=-1", "FREQ=DAILY;COUNT=-5", "FREQ=WEEKLY;INTERVAL=2;COUNT=10",
    "FREQ=DAILY\r\nATTENDEE:mailto:evil@example.com", "FREQ=", "daily", "weekdays", "every 1 seconds",
    "every 0 hours", "every 99999999 days", "monthly",
]  # fmt: skip
_ADDRESSES = [
    "bob@example.org", "me@example.com", "not an address", "", "a@b", "@example.com", "bob@",
    "x@example.com\r\nBcc: evil@example.com", "Ann <ann@example.com>", '"quo ted"@example.com',
    "a" * 300 + "@example.com", "bob@exa mple.org", "bob@example.org,carol@example.org", "mailto:bob@example.org",
]  # fmt: skip
_DURATIONS = [
    "P1D", "PT0S", "PT30M", "P9999Y", "PT-1H", "-P1D", "P1000000D", "PT0.000001S", "P", "PT",
    "1e9", "0", "-5", "999999999999", "3600", "2h", "30m", "-1d", "99999999d", "1e9s", "P1W", "NaN",
]  # fmt: skip
_TIMES = ["09:00", "17:30:00", "24:00", "25:99", "00:00", "23:59:59.999999", "9", "-1:00", "08:30+14:00"]
_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "0000-00-00", "-0001-01-01", "2026-3-2"]
_DATETIMES = [
    "0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00", "2026-03-02T08:00:00Z", "2026-03-02T25:61",
    "2026-03-02T08:00:00.123456789Z", "2026-03-02T08:00:00-23:59", "1970-01-01T00:00:00Z", "now",
    "2026-03-29T02:30:00", "20260302T080000Z", "2026-03-02 08:00",
]  # fmt: skip
# Around the targets' data (March 2026), so that windows meet real events and each other.
_NEAR = (datetime(2026, 2, 23), datetime(2026, 3, 16))
_NAMED: dict[str, list[Any]] = {
    "recurrence": _RRULES,
    "repeat": _RRULES,
    "to": _ADDRESSES,
    "cc": _ADDRESSES,
    "bcc": _ADDRESSES,
    "attendees": _ADDRESSES,
    "links": [
        "https://example.com/a",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "gmail://inbox",
        "mailto:x",
    ],
    "timezone": ["Europe/Berlin", "UTC", "Mars/Base", "../../etc/passwd", "", "Etc/GMT+14", "EST5EDT"],
    "namespace": ["signals.email", "a..b", "", ".", "signals.*", "x" * 300, "raw.email"],
    "namespaces": ["*", "signals.*", "[", "**", "%", ""],
    "query": [
        "from:bob",
        "newer_than:99999999d",
        "label:",
        "(((((",
        "is:unread OR",
        "subject:",
        "older_than:-1d",
    ],
    "since": ["2h", "-1d", "9999999999d", "cursor:xyz", "0", "-1", "99999999999999999999"],
    "until": ["30m", "-5m", "P1D", "99999999d"],
    "in": ["10m", "0s", "-1h", "99999999d", "1e9s", "soon"],
    "at": ["08:30", "2026-03-02T08:00:00", "25:00", "9999-12-31T23:59:59"],
    "within": _DURATIONS,
    "duration": _DURATIONS,
}


def strings(*, frame_extremes: bool = False) -> st.SearchStrategy[str]:
    """Hostile text: sharp characters mixed with letters, plain unicode, and huge repeated runs."""
    sharp = _SHARP + (_LONE_SURROGATES if frame_extremes else [])
    pieces = st.sampled_from(sharp) | st.text(max_size=3)
    huge = st.builds(_repeated, st.sampled_from(_HUGE_PIECES), st.sampled_from(_HUGE_SIZES))
    return st.one_of(st.lists(pieces, max_size=8).map("".join), st.text(max_size=30), huge)


def _repeated(piece: str, size: int) -> str:
    return piece * (size // len(piece))


def _formatted(fmt: str | None) -> st.SearchStrategy[str] | None:
    far = {"min_value": datetime(1, 1, 2), "max_value": datetime(9999, 12, 30)}
    zones = st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))])
    if fmt == "date-time":
        made = st.datetimes(**far, timezones=zones) | st.datetimes(*_NEAR, timezones=st.none() | zones)
        return made.map(datetime.isoformat) | st.sampled_from(_DATETIMES)
    if fmt == "date":
        days = st.dates(date(1, 1, 1), date(9999, 12, 31)) | st.dates(_NEAR[0].date(), _NEAR[1].date())
        return days.map(date.isoformat) | st.sampled_from(_DATES)
    if fmt == "time":
        return st.times().map(time.isoformat) | st.sampled_from(_TIMES)
    if fmt == "duration":
        return st.sampled_from(_DURATIONS)
    return None


def _string(schema: Schema, name: str | None, frame_extremes: bool) -> st.SearchStrategy[str]:
    options = [strings(frame_extremes=frame_extremes)]
    formatted = _formatted(schema.get("format"))
    if formatted is not None:
        options.insert(0, formatted)
    if name in _NAMED:
        options.insert(0, st.sampled_from([v for v in _NAMED[name] if isinstance(v, str)]))
    shortest = schema.get("minLength", 0)
    return st.one_of(options).map(lambda text: text if len(text) >= shortest else text.ljust(shortest, "x"))


def _integer(schema: Schema) -> st.SearchStrategy[int]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    edges = [v for v in (low, high) if v is not None]
    near = st.sampled_from([v + d for v in edges for d in (-1, 0, 1)] or [0, 1])
    inside = st.integers(min_value=low, max_value=high)
    return st.one_of(inside, inside, near, st.sampled_from(_INTEGERS))


def _number() -> st.SearchStrategy[float | int]:
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return st.sampled_from(_NUMBERS) | finite | st.integers(-(10**6), 10**6)


def json_values(*, frame_extremes: bool = False) -> st.SearchStrategy[Any]:
    """Any JSON: scalars of every kind, small trees, and arrays or objects nested hundreds deep."""
    scalars = (
        st.none()
        | st.booleans()
        | st.sampled_from(_INTEGERS + _NUMBERS)
        | strings(frame_extremes=frame_extremes)
    )
    trees = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
    depths = [50, 150, 190] + (
        [250, 800] if frame_extremes else []
    )  # past 900 our own encoder recurses too deep
    deep = st.builds(_nested, st.sampled_from(depths), st.booleans())
    return st.one_of(trees, deep)


def _nested(depth: int, as_objects: bool) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"k": value} if as_objects else [value]
    return value


def valid_arguments(
    schema: Schema, hints: Hints | None = None, *, frame_extremes: bool = False
) -> st.SearchStrategy[Any]:
    """Values that follow the schema's shape, each as hostile as its type allows."""
    return _value(schema, None, hints or {}, frame_extremes)


def _value(schema: Schema, name: str | None, hints: Hints, extremes: bool) -> st.SearchStrategy[Any]:
    generic = _by_schema(schema, name, hints, extremes)
    known = hints.get(name or "")
    return st.sampled_from(list(known)) | generic if known else generic


def _by_schema(schema: Schema, name: str | None, hints: Hints, extremes: bool) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        return st.one_of([_value(option, name, hints, extremes) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema, name, extremes)
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _number()
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return _array(schema, name, hints, extremes)
    if kind == "object" or "properties" in schema:
        return _object(schema, hints, extremes)
    return json_values(frame_extremes=extremes)


def _array(schema: Schema, name: str | None, hints: Hints, extremes: bool) -> st.SearchStrategy[list[Any]]:
    item_schema = schema.get("items", {})
    item = _value(item_schema, name, hints, extremes)
    counts = st.sampled_from([1000, 1001, 5000])
    many = st.builds(lambda value, count: [value] * count, _small(item_schema, name, hints), counts)
    return st.lists(item, min_size=min(schema.get("minItems", 0), 4), max_size=4) | many


def _small(schema: Schema, name: str | None, hints: Hints) -> st.SearchStrategy[Any]:
    """A short value of the schema's type, to repeat thousands of times without a gigabyte frame."""
    known = list(hints.get(name or "", ())) + [v for v in _NAMED.get(name or "", ()) if len(str(v)) < 100]
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(-10, 10)
    if known:
        return st.sampled_from(known) | st.text(max_size=8)
    if kind == "string":
        return st.text(max_size=8)
    return st.sampled_from([None, 0, "x", [], {}])


def _object(schema: Schema, hints: Hints, extremes: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if not properties:
        return st.dictionaries(
            strings(frame_extremes=extremes), json_values(frame_extremes=extremes), max_size=4
        )
    required = set(schema.get("required", ()))
    fields = {key: _value(sub, key, hints, extremes) for key, sub in properties.items()}
    return st.fixed_dictionaries(
        {key: value for key, value in fields.items() if key in required},
        optional={key: value for key, value in fields.items() if key not in required},
    )


_WRONG = [None, True, False, 0, -1, 1.5, "", "x", [], {}, [1, "a"], {"a": {"b": []}}, 10**30]


def invalid_arguments(
    schema: Schema, hints: Hints | None = None, *, frame_extremes: bool = False
) -> st.SearchStrategy[Any]:
    """Arguments the schema refuses: a required key missing, an unknown key, a wrong type, not an object."""
    valid = valid_arguments(schema, hints, frame_extremes=frame_extremes).filter(
        lambda v: isinstance(v, dict)
    )
    keys = sorted(schema.get("properties", {}))
    required = sorted(schema.get("required", ()))
    options = [
        st.builds(
            lambda args, extra: {**args, **extra},
            valid,
            st.dictionaries(
                st.sampled_from(["x", "__proto__", "id ", "Namespace", "$ref"]),
                st.sampled_from(_WRONG),
                min_size=1,
                max_size=2,
            ),
        ),
        st.sampled_from([None, [], "arguments", 5, [{"id": "x"}]]),
    ]
    if keys:
        wrong = st.sampled_from(_WRONG)
        options.append(
            st.builds(lambda args, key, value: {**args, key: value}, valid, st.sampled_from(keys), wrong)
        )
    if required:
        dropped = st.builds(
            lambda args, key: {k: v for k, v in args.items() if k != key}, valid, st.sampled_from(required)
        )
        options.append(dropped)
    return st.one_of(options)


def arguments(
    schema: Schema, hints: Hints | None = None, *, valid: bool = True, frame_extremes: bool = False
) -> st.SearchStrategy[Any]:
    """`valid_arguments` or `invalid_arguments` of `schema`."""
    build = valid_arguments if valid else invalid_arguments
    return build(schema, hints, frame_extremes=frame_extremes)
