"""IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): "Réunions" is "R&AOk-unions".

Printable ASCII stands for itself except "&", written "&-"; any other run of characters is its
UTF-16 encoding in base64 (with "," for "/", no padding) between "&" and "-". `encode_mailbox`
and `decode_mailbox` convert between the names users see and the names on the wire;
`decode_mailbox` raises `ValueError` on a name that is not valid modified UTF-7.
"""

from __future__ import annotations

import base64
import re

__all__ = ["decode_mailbox", "encode_mailbox"]

_SHIFTED = re.compile(r"&([^-]*)-")
_BASE64 = re.compile(r"[A-Za-z0-9+,]*")


def _is_direct(char: str) -> bool:
    return " " <= char <= "~"


def _shift(run: str) -> str:
    encoded = base64.b64encode(run.encode("utf-16-be")).decode("ascii")
    return "&" + encoded.rstrip("=").replace("/", ",") + "-"


def encode_mailbox(name: str) -> str:
    """The wire form of a mailbox name."""
    out: list[str] = []
    run: list[str] = []
    for char in name:
        if _is_direct(char):
            if run:
                out.append(_shift("".join(run)))
                run = []
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    if run:
        out.append(_shift("".join(run)))
    return "".join(out)


def _unshift(match: re.Match[str]) -> str:
    body = match.group(1)
    if not body:
        return "&"
    if not _BASE64.fullmatch(body):
        raise ValueError(f"{match.group(0)!r} is not modified base64")
    padded = body.replace(",", "/") + "=" * (-len(body) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{match.group(0)!r} is not UTF-16 in modified base64") from exc
    if not decoded or any(_is_direct(char) for char in decoded):
        raise ValueError(f"{match.group(0)!r} encodes characters that must be written directly")
    return decoded


def decode_mailbox(wire: str) -> str:
    """The name users see for a wire-form mailbox name; `ValueError` when it is not modified UTF-7."""
    if any(not _is_direct(char) for char in wire):
        raise ValueError(f"{wire!r} has characters that modified UTF-7 never contains")
    decoded = _SHIFTED.sub(_unshift, wire)
    if "&" in _SHIFTED.sub("", wire):
        raise ValueError(f"{wire!r} has an unterminated '&' shift")
    return decoded
