"""The Gmail store's first indexing, a page at a time while the server answers (Gmail API, Composio).

`plan_index` takes the profile's historyId (and messagesTotal, the M of "indexing, N of M") before
anything is listed, and keeps it in the index (`first_index_history_id`): the history read after the
backlog starts there, so that mail arriving, changed or deleted while the pages are read is not lost.
Each step lists ids newest first (`users.messages.list`, 500 a page, as Gmail orders them), reads
those not yet indexed (`fetch_step`: batch requests through a transport of its own, outside the
index lock, so tools do not wait for the account) and journals them in one transaction, newest
first, marked `backlog` (`write_step`). Meanwhile a sync (`index_arrivals`) journals at once the
mail that history says arrived since the plan, ahead of the backlog. When the listing is done the
start historyId becomes the store's `history_id` and a history sync records what changed meanwhile.
A restart before that plans again from the same start and lists again, fetching only what is not
indexed yet (as does a page token Gmail no longer takes): nothing is lost or journalled twice. Mixed into `GmailStore`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import IndexProgress
from .provider import MailProviderError, NotFoundError, ProviderUnavailableError

if TYPE_CHECKING:
    from .gmail_store import Fetched, GmailOperations
    from .journal import Journal

__all__ = ["FirstIndex", "Listing", "Step"]

logger = logging.getLogger(__name__)
START_KEY = "first_index_history_id"


@dataclass
class Listing:
    """Where the first indexing is: its start historyId, ids listed and not yet journalled, the next
    page token, and the historyId arrivals were read up to (None: history expired, not read)."""

    start: str
    arrivals_from: str | None
    waiting: list[str] = field(default_factory=list)
    token: str | None = None
    listed_all: bool = False


@dataclass
class Step:
    """One step's ids (newest first) and the messages fetched for those not indexed when it began."""

    ids: list[str]
    fetched: dict[str, Fetched | MailProviderError]


class FirstIndex:
    """`plan_index`, `fetch_step`/`write_step` (`index_step`) and `index_arrivals` for `GmailStore`."""

    journal: Journal
    ops: GmailOperations
    backlog_ops: GmailOperations
    progress: IndexProgress | None
    _listing: Listing | None

    def _add(self, id: str, found: Fetched | MailProviderError, *, backlog: bool = False) -> None: ...  # pragma: no cover  # fmt: skip
    def scan(self) -> int: ...  # pragma: no cover
    @staticmethod
    def _pages(fetch: Callable[[str | None], dict[str, Any]]) -> Iterator[dict[str, Any]]: ...  # pragma: no cover  # fmt: skip

    def plan_index(self) -> int:
        """Begin (or resume) the first indexing; returns how many messages are left, as far as the
        profile's count tells. An account indexed before has nothing to plan: its history is read."""
        if self.journal.meta("history_id") is not None:
            return 0
        profile = self.ops.profile()
        start = self.journal.meta(START_KEY) or str(profile["historyId"])
        with self.journal.transaction():
            self.journal.set_meta(START_KEY, start)
        indexed = self.journal.count()
        total = max(int(profile.get("messagesTotal") or 0), indexed)
        self._listing = Listing(start=start, arrivals_from=start)
        self.progress = IndexProgress(indexed=indexed, total=total)
        return total - indexed

    def index_step(self, size: int) -> IndexProgress | None:
        """A whole step at once (`fetch_step` then `write_step`); None once the listing is done."""
        return self.write_step(self.fetch_step(size, self.unindexed))

    def unindexed(self, ids: list[str]) -> list[str]:
        return [id for id in ids if self.journal.row(id) is None]

    def fetch_step(self, size: int, unindexed: Callable[[list[str]], list[str]]) -> Step:
        """The next `size` listed ids and the messages of those `unindexed` says are new (network
        only: run outside the index lock; `unindexed` takes the lock for its look)."""
        listing = self._listing
        if listing is None:
            return Step([], {})
        while len(listing.waiting) < size and not listing.listed_all:
            try:
                page = self.backlog_ops.list_messages(listing.token)
            except ProviderUnavailableError:
                raise
            except MailProviderError as exc:
                if listing.token is None:
                    raise
                logger.warning("Gmail refused the page token (%s): listing again from the newest", exc)
                listing.waiting, listing.token = [], None  # what is indexed is skipped, not fetched again
                continue
            listing.waiting += [item["id"] for item in page.get("messages", [])]
            listing.token = page.get("nextPageToken") or None
            listing.listed_all = listing.token is None
        ids = listing.waiting[:size]
        fresh = unindexed(list(dict.fromkeys(ids)))
        return Step(ids, self.backlog_ops.get_messages(fresh) if fresh else {})

    def write_step(self, step: Step) -> IndexProgress | None:
        """Journal `step` in one transaction, newest first; at the end of the listing, hand over to
        history from the start historyId and return None."""
        listing, progress = self._listing, self.progress
        if listing is None or progress is None or not step.ids:
            return self._finish()
        added = 0
        with self.journal.transaction():
            for id in dict.fromkeys(step.ids):
                if id in step.fetched and self.journal.row(id) is None:  # not an arrival meanwhile
                    self._add(id, step.fetched[id], backlog=True)
                    added += 1
        del listing.waiting[: len(step.ids)]  # only once stored: a failed step is tried again
        indexed = progress.indexed + added
        self.progress = IndexProgress(indexed=indexed, total=max(progress.total, indexed))
        return self.progress

    def _finish(self) -> None:
        if self._listing is not None:
            with self.journal.transaction():
                self.journal.set_meta("history_id", self._listing.start)
        self._listing, self.progress = None, None
        self.scan()  # history since the start: what arrived, changed or went while the pages were read
        return None

    def index_arrivals(self) -> int:
        """Journal the mail that history says arrived since the plan, not waiting for the backlog;
        returns how many journal entries that added. Label changes and deletions wait for the
        history sync at the end."""
        listing = self._listing
        if listing is None or listing.arrivals_from is None:
            return 0
        try:
            pages = list(self._pages(lambda token: self.ops.list_history(str(listing.arrivals_from), token)))
        except NotFoundError:
            logger.warning("Gmail history expired during the first indexing: its end resyncs in full")
            listing.arrivals_from = None
            return 0
        records = [record for page in pages for record in page.get("history", [])]
        added = [item["message"]["id"] for r in records for item in r.get("messagesAdded", [])]
        fresh = self.unindexed(list(dict.fromkeys(added)))
        fetched = self.ops.get_messages(fresh) if fresh else {}
        before = self.journal.last_seq()
        with self.journal.transaction():
            for id in fresh:
                self._add(id, fetched[id])
        listing.arrivals_from = str(max([int(listing.arrivals_from), *(int(p.get("historyId") or 0) for p in pages),
                                         *(int(r["id"]) for r in records)]))  # fmt: skip
        return self.journal.last_seq() - before
