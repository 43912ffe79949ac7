"""The state tracker: the conversation as tagged events, rendered into a bounded prompt.

Entries render as `<user_msg>`, `<assistant>`, `<tool_call id=…>`, `<tool_result id=…>`, `<event …>`
and `<summary>`. Text inside a tag is escaped, so mail that contains `</event>` or `<tool_call>` stays
data and cannot forge structure. When the rendered history passes its budget, the oldest entries are
replaced by one summary; a tool call is summarized only together with its result, and a call still
waiting for its result is never summarized away.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["History", "HistoryEntry", "Summarizer", "plain_summary"]

EntryKind = Literal["user_msg", "assistant", "tool_call", "tool_result", "event", "summary"]
Summarizer = Callable[[Sequence["HistoryEntry"]], Awaitable[str]]


class HistoryEntry(BaseModel):
    kind: EntryKind
    content: str = ""
    call_id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def render(self) -> str:
        attrs = dict(self.attributes)
        if self.call_id is not None:
            attrs = {"id": self.call_id, **attrs}
        rendered = "".join(f' {k}="{html.escape(_text(v), quote=True)}"' for k, v in attrs.items())
        return f"<{self.kind}{rendered}>{html.escape(self.content, quote=False)}</{self.kind}>"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


class History:
    """Entries in order, with compaction to keep the prompt under `budget_chars`."""

    def __init__(self, entries: Sequence[HistoryEntry] = (), budget_chars: int = 16_000) -> None:
        self.entries: list[HistoryEntry] = list(entries)
        self.budget_chars = budget_chars

    def add(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)

    def render(self) -> str:
        return "\n".join(entry.render() for entry in self.entries)

    def size(self) -> int:
        return len(self.render())

    def pending_call_ids(self) -> set[str]:
        called = {e.call_id for e in self.entries if e.kind == "tool_call"}
        answered = {e.call_id for e in self.entries if e.kind == "tool_result"}
        return {c for c in called - answered if c is not None}

    async def compact(self, summarize: Summarizer) -> bool:
        """Summarize the oldest entries when over budget, down to half of it; True if it did."""
        if self.size() <= self.budget_chars:
            return False
        old, kept = self._split_for(self.budget_chars // 2)
        if not old:
            return False
        summary = await summarize(old)
        self.entries = [HistoryEntry(kind="summary", content=summary), *kept]
        return True

    def _split_for(self, target: int) -> tuple[list[HistoryEntry], list[HistoryEntry]]:
        """The oldest entries to fold so that the rest fits `target`; pending calls stay, and a
        result is folded exactly when its call is."""
        pending = self.pending_call_ids()
        remaining = self.size()
        folded_calls: set[str | None] = set()
        old: list[HistoryEntry] = []
        kept: list[HistoryEntry] = []
        for entry in self.entries:
            folds_with_call = entry.kind == "tool_result" and entry.call_id in folded_calls
            is_pending_call = entry.kind == "tool_call" and entry.call_id in pending
            if folds_with_call or (remaining > target and not is_pending_call):
                old.append(entry)
                remaining -= len(entry.render()) + 1
                if entry.kind == "tool_call":
                    folded_calls.add(entry.call_id)
            else:
                kept.append(entry)
        return old, kept


async def plain_summary(entries: Sequence[HistoryEntry]) -> str:
    """A `Summarizer` that needs no model: how much happened, and the last things said."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    said = [e for e in entries if e.kind in ("user_msg", "assistant", "summary")][-4:]
    tally = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    recent = " | ".join(f"{e.kind}: {e.content[:160]}" for e in said)
    return f"Earlier: {tally}. Last said: {recent}" if recent else f"Earlier: {tally}."
