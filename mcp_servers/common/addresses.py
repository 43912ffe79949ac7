"""Checks on what a server writes into mail headers: recipient addresses and one-line header text.

Every recipient of a message (to, cc, bcc) must be one RFC 5322 mailbox: an addr-spec
(`ada@example.org`) or a display name with one (`Ada <ada@example.org>`); an event's attendee must
be a bare addr-spec. Both are parsed with the standard library's RFC 5322 parser and refused on any
defect. Header text (subjects, names, ids)
may not hold CR, LF or NUL, which would let a value start a header of its own, nor run past
`MAX_HEADER_CHARS` (folding a long header is quadratic in the standard library: a megabyte subject
took 90 s, holding the whole server); a field takes at most `MAX_RECIPIENTS` addresses. All raise
`HeaderValueError` (a `ValueError`, so pydantic validators may use them too) with a message that
names the field and says what to send instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.policy import default

__all__ = [
    "MAX_HEADER_CHARS",
    "MAX_RECIPIENTS",
    "HeaderValueError",
    "addr_spec",
    "header_text",
    "mailbox",
    "recipients",
]

_BREAKS = ("\r", "\n", "\0")
MAX_HEADER_CHARS = 2_000
MAX_RECIPIENTS = 500


class HeaderValueError(ValueError):
    """A value that cannot go into a mail header as given."""


def header_text(value: str, field: str, limit: int = MAX_HEADER_CHARS) -> str:
    """`value` unchanged when it is one line of at most `limit` characters; else a `HeaderValueError`."""
    if any(mark in value for mark in _BREAKS):
        raise HeaderValueError(f"{field} contains a line break: send it as one line of text")
    if len(value) > limit:
        raise HeaderValueError(f"{field} is {len(value):,} characters long: at most {limit:,}; shorten it")
    return value


def mailbox(value: str, field: str) -> str:
    """`value` as one RFC 5322 mailbox, normalized (`Ada <ada@example.org>` or `ada@example.org`)."""
    return str(_parse(value, field, "ada@example.org or Ada <ada@example.org>"))


def addr_spec(value: str, field: str) -> str:
    """`value` as a bare RFC 5322 addr-spec (`ada@example.org`); a display name is refused."""
    address = _parse(value, field, "ada@example.org")
    if address.display_name:
        raise HeaderValueError(f"{field}: give the bare address {address.addr_spec}, without a name")
    return address.addr_spec


def _parse(value: str, field: str, like: str) -> Address:
    header_text(value, field)
    shown = repr(value if len(value) <= 80 else value[:77] + "...")
    problem = f"{field}: {shown} is not an e-mail address"
    try:
        parsed = default.header_factory("to", value)
        found = list(parsed.addresses)
        whole = len(parsed.groups) == 1 and parsed.groups[0].display_name is None
        address = Address(found[0].display_name, addr_spec=found[0].addr_spec) if found else None
    except (HeaderParseError, ValueError, IndexError, TypeError) as exc:  # the parser's ways to refuse
        raise HeaderValueError(f"{problem}: write it like {like}") from exc
    if len(found) > 1 or (found and not whole):
        raise HeaderValueError(f"{field}: {shown} is not one address: give one address per entry, no groups")
    if parsed.defects or address is None or not address.username or not address.domain:
        raise HeaderValueError(f"{problem}: write it like {like}")
    return address


def recipients(values: Iterable[str], field: str, *, required: bool = False) -> list[str]:
    """Every entry of `values` checked by `mailbox`; an empty list refused when `required`, and more
    than `MAX_RECIPIENTS` entries always."""
    values = list(values)
    if len(values) > MAX_RECIPIENTS:
        raise HeaderValueError(
            f"{field} has {len(values):,} addresses: at most {MAX_RECIPIENTS} per field; "
            "write to a list address or send several messages"
        )
    checked = [mailbox(value, field) for value in values]
    if required and not checked:
        raise HeaderValueError(f"{field} is empty: give at least one recipient address")
    return checked
