"""The context store's documented input limits (see the README) and the checks that enforce them.

Each check is cheap and runs before any work (on the event loop if need be); each refusal is an
`InvalidInput` that names the limit and what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InvalidInput

__all__ = ["Limits"]

SEARCH_MODES = ("lexical", "semantic", "hybrid")


@dataclass(frozen=True)
class Limits:
    """Documented input limits (see the README)."""

    max_item_bytes: int = 1_048_576
    max_batch_items: int = 10_000
    max_page: int = 1_000
    max_query_chars: int = 2_000
    max_json_depth: int = 32
    max_filters: int = 32  # namespace globs, or tags, in one query
    query_seconds: float = 10.0

    def check_page(self, limit: int) -> int:
        if not 0 < limit <= self.max_page:
            raise InvalidInput(f"limit {limit} is out of range: use 1 to {self.max_page}")
        return limit

    def check_filters(self, namespaces: Sequence[str], tags: Sequence[str]) -> None:
        for what, given in (("namespace patterns", namespaces), ("tags", tags)):
            if len(given) > self.max_filters:
                raise InvalidInput(f"{len(given)} {what} in one filter: at most {self.max_filters}")

    def check_search(
        self, text: str, mode: str, limit: int, namespaces: Sequence[str] = (), tags: Sequence[str] = ()
    ) -> None:
        """Refuse a search that breaks a limit, before any work."""
        self.check_page(limit)
        if not text or not text.strip():
            raise InvalidInput("search text is empty: say what to look for")
        if len(text) > self.max_query_chars:
            raise InvalidInput(
                f"search text is {len(text):,} characters: the limit is {self.max_query_chars:,}; "
                "search for the key words or a short passage instead"
            )
        self.check_filters(namespaces, tags)
        if mode not in SEARCH_MODES:
            raise InvalidInput(f"unknown search mode {mode!r}: use lexical, semantic or hybrid")

    def check_batch(self, count: int) -> None:
        if count > self.max_batch_items:
            raise InvalidInput(
                f"batch of {count} items is too large: send at most {self.max_batch_items} per call"
            )
