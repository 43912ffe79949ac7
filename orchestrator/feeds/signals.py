"""Signals: what the feeds found worth the user's attention, as stored in `signals.*`.

One model for every feed, so the scheduler, the chat's rules mode and the UI read them the same way.
Each signal is stored under `signals.<kind>` with the id of what it is about (so a replayed event
rewrites the same item instead of adding another) and tagged with its priority, category and kind,
and an email's with its sender (`sender_tag`), so the mail feed can find them again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.feeds.triage_rules import Deadline

__all__ = ["PRIORITY_ORDER", "Signal", "SignalKind", "sender_tag"]

SignalKind = Literal["email", "meeting", "follow_up", "reminder", "waiting", "feed"]  # feed: a [feeds.NAME]
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class Signal(BaseModel):
    kind: SignalKind
    source_id: str = Field(description="Id of the mail, event or reminder it is about")
    priority: Literal["low", "normal", "high", "urgent"]
    category: str = Field(
        description="action | fyi | bulk | personal | meeting | follow_up | reminder | waiting"
    )
    summary: str = Field(description="One line")
    action_items: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    link: str | None = Field(None, description="URI of the underlying message or event")
    starts_at: datetime | None = Field(None, description="For meetings: when it starts")
    all_day: bool = Field(
        False, description="For meetings: an all-day event (starts_at is its date, 00:00 UTC)"
    )
    brief: str | None = Field(None, description="For meetings: the preparation brief")
    engine: Literal["rules", "llm"] = "rules"
    sender: str | None = Field(None, description="For emails: the From address, lower case")
    # For emails, from the ranker (orchestrator.triage.ranker_book); absent on signals stored before it.
    score: float | None = Field(None, description="How much it needs the user now (above 0: Now)")
    attention: bool | None = Field(None, description="Asks for a place in Now (see orchestrator.triage.now)")
    seen: bool = Field(False, description="Read, in the mailbox or in Pepper")
    features: dict[str, float] = Field(default_factory=dict, description="The ranker's features")
    keys: dict[str, Any] | None = Field(None, description="Whose own weights apply (sender, list)")
    why: list[str] = Field(default_factory=list, description="The ranker's top reasons, in words")
    account: str | None = Field(None, description="The account it came to (absent: the default one)")

    @property
    def namespace(self) -> str:
        return f"signals.{self.kind}"

    def store_item(self) -> dict[str, Any]:
        """The item for the context store's `store_many`."""
        arguments = self.put_arguments()
        return {"id": arguments.pop("item_id"), **arguments}

    def put_arguments(self) -> dict[str, Any]:
        """`ContextItems.put` arguments that record this signal (idempotent by source id)."""
        return {
            "namespace": self.namespace,
            "item_id": self.source_id,
            "data": self.model_dump(mode="json"),
            "text": " ".join([self.summary, *self.action_items, self.brief or ""]).strip(),
            "tags": [self.priority, self.category, self.kind]
            + (["now"] if self.attention else [])
            + ([sender_tag(self.sender)] if self.sender else []),
        }


def sender_tag(address: str) -> str:
    """The tag that finds a sender's signals (`from:<address>`; hashed when too long for a tag)."""
    tag = f"from:{address.lower()}"
    return tag if len(tag) <= 64 else "from:#" + hashlib.sha256(address.lower().encode()).hexdigest()[:32]
