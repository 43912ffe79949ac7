"""New mail ahead of a backfill: the ingest's live lane and its hand-over to the mail feed.

A first sync of a big mailbox reads the gmail server's change journal in order, and the journal
holds years of old mail (the first indexing's backlog) ahead of anything delivered since; the mail
feed then walks the context store's event log in order as well. New mail would wait for both. So
while the main lane is behind, a second lane (`MailIngest.sync_live`) reads only the live changes
(`list_changes(live=True)`: new mail, moves, flags) from a cursor of its own, stores them at once,
and hands their ids to the mail feed, which triages them between two pages of backfill
(`MailFeed.handle_urgent`). Each change is applied by one lane only: a lane claims the changes of
its page before it reads them (`claim_main`, `claim_live`), the main lane skipping what the live
lane took and the live lane what the main lane has passed. The log stays the truth: the feed meets
the same writes again later and skips the ones it judged already (unchanged since), and after a
restart whatever was handed over and lost is simply triaged in log order.
"""

from __future__ import annotations

from typing import Any

import anyio

__all__ = ["LiveMail"]

HANDED_OVER_KEPT = 1000  # ids waiting for the feed: far more than arrives during a page


class LiveMail:
    """What the two lanes of the ingest and the mail feed share (one per mailbox, in memory)."""

    def __init__(self) -> None:
        self.main_seq = 0  # the highest journal seq the main lane has claimed
        self.live_claimed: set[int] = set()  # seqs the live lane took, above main_seq
        self._waiting: dict[str, None] = {}  # stored by the live lane, not yet triaged by the feed
        self.handed_over = 0  # messages triaged ahead of the log (for status and tests)
        self._arrival: anyio.Event | None = None  # made in the event loop, on first use

    def claim_main(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The changes of a main-lane page that the live lane has not applied; the main lane owns
        everything up to the page's last seq from now on."""
        mine = [change for change in changes if change["seq"] not in self.live_claimed]
        if changes:
            self.main_seq = max(self.main_seq, max(change["seq"] for change in changes))
            self.live_claimed = {seq for seq in self.live_claimed if seq > self.main_seq}
        return mine

    def claim_live(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The changes of a live page that neither lane has claimed yet; they are the live lane's."""
        mine = [c for c in changes if c["seq"] > self.main_seq and c["seq"] not in self.live_claimed]
        self.live_claimed |= {change["seq"] for change in mine}
        return mine

    def release(self, changes: list[dict[str, Any]]) -> None:
        """Give back a live claim whose write failed: the main lane applies those changes in turn."""
        self.live_claimed -= {change["seq"] for change in changes}

    def hand_over(self, ids: list[str]) -> None:
        """Messages the live lane stored, for the feed to triage before its next page."""
        self._waiting.update(dict.fromkeys(ids))
        if ids and self._arrival is not None:
            self._arrival.set()
        while len(self._waiting) > HANDED_OVER_KEPT:
            del self._waiting[next(iter(self._waiting))]  # the log still brings them, in turn

    def arrival(self) -> anyio.Event:
        """An event set once mail is handed over (already set while some waits)."""
        if self._arrival is None or (self._arrival.is_set() and not self._waiting):
            self._arrival = anyio.Event()
        if self._waiting:
            self._arrival.set()
        return self._arrival

    def take(self) -> list[str]:
        """The ids handed over since the last call, oldest first."""
        ids, self._waiting = list(self._waiting), {}
        self.handed_over += len(ids)
        return ids
