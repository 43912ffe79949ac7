"""Bounded triage for big mailboxes: which mail is triaged, which is only indexed, and how far it got.

The gmail server journals a first sync newest first. Mail that can need the user (unread, or received
within the last `triage_days`, 14 by default) goes to `raw.email` as usual and the mail feed triages
it; older read mail is stored with the `backfill` tag: searchable, learned from when it is the user's
own (Sent), never triaged. The ingest stores no backfill before the feed has triaged what was stored
before it (`wait_for_triage`), so the Now list is complete for recent mail before any backfill
starts. `SyncProgress` is what `status` and the UI show ("indexed 12,400 of 100,000"). Once a sync
has completed, mail that arrived while Pepper was off is triaged however old it is (a laptop asleep
for longer than `triage_days`): the window reaches back to the last completed sync (less a day for
mail that was slow to arrive), so only mail from before that is backfill.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field

from orchestrator.event_log import EventLog

__all__ = ["BACKFILL", "TRIAGE_CONSUMER", "SyncProgress", "needs_triage", "wait_for_triage"]

logger = logging.getLogger(__name__)
BACKFILL = "backfill"  # the tag of mail stored for search only
TRIAGE_CONSUMER = "feeds.email"  # the mail feed's consumer name: the ingest waits for its cursor
TRIAGE_WAIT_SECONDS = 900.0  # a feed that never catches up must not stop the backfill for good
POLL_SECONDS = 0.5  # a read of the log each: the wait is over once, at the backfill's start
GAP_SLACK = timedelta(days=1)  # mail dated this long before the last sync may still have arrived after it


class SyncProgress(BaseModel):
    """How far the mail in the mailbox has reached the context store."""

    phase: Literal["starting", "recent", "backfill", "done"] = "starting"
    stored: int = Field(0, description="Changes applied to raw.email since the first sync began")
    total: int = Field(0, description="stored + changes recorded after the cursor + mail not yet indexed")
    backfill: int = Field(0, description="Messages stored for search only (old and read) by this process")

    @property
    def text(self) -> str:
        if self.phase == "done":
            return f"mail synced: {self.stored:,} messages"
        if self.phase == "starting":
            return "mail: starting"
        return f"indexed {self.stored:,} of {max(self.total, self.stored):,}" + (
            " (older mail, for search)" if self.phase == "backfill" else " (recent mail first)"
        )

    def after_page(self, page: dict[str, Any], applied: int) -> None:
        """Count a stored page of `list_changes` (its `pending` and `indexing` give the total)."""
        self.stored += applied
        indexing = page.get("indexing") or {}
        unindexed = max(int(indexing.get("total", 0)) - int(indexing.get("indexed", 0)), 0)
        self.total = self.stored + int(page.get("pending", 0)) + unindexed
        if not page.get("has_more") and not indexing:
            self.phase = "done"
        elif self.phase == "starting":
            self.phase = "recent"

    def as_status(self) -> dict[str, Any]:
        return {**self.model_dump(), "text": self.text}


def needs_triage(
    message: dict[str, Any], now: datetime, triage_days: float, synced_at: datetime | None = None
) -> bool:
    """Whether a message can need the user: unread, or received within the last `triage_days`, or
    since the last completed sync `synced_at` (mail from a gap in Pepper's running)."""
    if "UNREAD" in (message.get("labels") or []):
        return True
    try:
        received = datetime.fromisoformat(str(message.get("date")))
    except ValueError:
        return True  # no usable date: triage rather than hide it
    window = now - timedelta(days=triage_days)
    return received >= (min(window, synced_at - GAP_SLACK) if synced_at is not None else window)


async def wait_for_triage(log: EventLog, consumer: str = TRIAGE_CONSUMER) -> None:
    """Return once `consumer` has handled every `raw.email` event written so far (or after
    TRIAGE_WAIT_SECONDS, with a warning)."""
    with anyio.move_on_after(TRIAGE_WAIT_SECONDS) as waited:
        while await _unhandled(log, consumer):  # noqa: ASYNC110 - the cursor lives in the store
            await anyio.sleep(POLL_SECONDS)
    if waited.cancelled_caught:
        logger.warning("the mail feed has not caught up in %.0f s; the backfill goes on", TRIAGE_WAIT_SECONDS)


async def _unhandled(log: EventLog, consumer: str) -> bool:
    """Whether a `raw.email` event waits for `consumer`: after what it handled, when it runs in this
    process (its acks lag by up to `ACK_SECONDS`), else after its acked cursor."""
    handled = log.handled_through(consumer)
    if handled is None:
        page = await log.read(consumer, None, ["raw.email"], limit=1)
    else:
        page = await log.read(None, handled, ["raw.email"], limit=1)
    return bool(page.get("events"))
