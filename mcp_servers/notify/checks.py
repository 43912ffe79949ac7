"""Checks on what callers send, each failing with a message that says what to do instead.

Kept apart from the engine so that the limits are stated once and tested without MCP.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from .settings import MAX_BODY_BYTES

__all__ = ["MAX_LINKS", "MAX_TITLE_CHARS", "NotifyInputError", "check_notification"]

MAX_TITLE_CHARS = 200
MAX_LINKS = 20
# Web and mail links, and the URIs of what Pepper's own servers serve (the UI opens those in place).
LINK_SCHEMES = {"http", "https", "mailto", "gmail", "calendar", "context", "notify"}
MAX_KEY_CHARS = 200


class NotifyInputError(ValueError):
    """Input the notify server refuses; the message is meant for the caller (a person or a model)."""


def check_notification(
    title: str, body: str, source: str, links: Sequence[str], dedupe_key: str | None
) -> tuple[str, str]:
    """The stripped title and source, or NotifyInputError naming the first problem."""
    title = title.strip()
    if not title:
        raise NotifyInputError("title is empty: give the notification a short title")
    if len(title) > MAX_TITLE_CHARS:
        raise NotifyInputError(
            f"title is {len(title)} characters; the limit is {MAX_TITLE_CHARS}: move the rest into body"
        )
    size = len(body.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise NotifyInputError(
            f"body is {size:,} bytes; the limit is {MAX_BODY_BYTES:,} bytes (UTF-8): "
            "shorten it, or put the content somewhere and send a link"
        )
    source = source.strip()
    if not source or len(source) > MAX_KEY_CHARS:
        raise NotifyInputError(f"source must be 1 to {MAX_KEY_CHARS} characters, e.g. 'gmail' or 'calendar'")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= MAX_KEY_CHARS:
        raise NotifyInputError(f"dedupe_key must be 1 to {MAX_KEY_CHARS} characters, or omitted")
    if len(links) > MAX_LINKS:
        raise NotifyInputError(f"{len(links)} links given; the limit is {MAX_LINKS}")
    for link in links:
        if urlsplit(link).scheme not in LINK_SCHEMES or len(link) > 2048:
            raise NotifyInputError(
                f"link {link[:80]!r} is not an http(s), mailto or Pepper (gmail://, calendar://, context://) URI"
            )
    return title, source
