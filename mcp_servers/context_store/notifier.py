"""Turning writes into `notifications/resources/updated`, for this process's writes and everyone else's.

One path serves both: the notifier follows the event log. It wakes when this process writes
(`wake()`), when the backend learns of another writer's commit (`Storage.watch_changes`: SQLite's
datagrams and `data_version` watcher, PostgreSQL's `LISTEN/NOTIFY`), and every few seconds in any
case (every `poll_interval` when the backend cannot watch commits). A wake-up carries at most a
position: the log is the truth. For each new event it notifies every subscribed URI that matches:
`context://namespace/{glob}` when the item's namespace matches the glob,
`context://item/{namespace}/{id}` exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import anyio
from anyio.abc import TaskStatus

from mcp_servers.common.subscriptions import ResourceSubscriptions

from . import uris
from .errors import InvalidInput
from .models import Event
from .storage import Storage

__all__ = ["ChangeNotifier", "matching_uris"]

logger = logging.getLogger(__name__)

SAFETY_POLL = 5.0  # with the watcher on, a read of the log every few seconds only guards against surprises


class ChangeNotifier:
    """Follows the event log and notifies the subscribers of every matching URI."""

    def __init__(self, store: Storage, subscriptions: ResourceSubscriptions, poll_interval: float = 0.01):
        self._store = store
        self._subscriptions = subscriptions
        self._poll_interval = poll_interval
        self._wake = anyio.Event()
        self._seen = 0

    def wake(self, seq: int) -> None:
        """This process just wrote up to `seq`: deliver now, or, with no subscriber, just move on."""
        if self._subscriptions.subscribed_uris():
            self._wake.set()
        else:
            self._seen = max(self._seen, seq)

    def _changed(self, seq: int) -> None:
        """Another writer committed (up to `seq`, when known): deliver now."""
        if seq <= 0 or seq > self._seen:
            self._wake.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        self._seen = await self._store.last_seq()
        async with anyio.create_task_group() as tasks:
            await tasks.start(self._store.watch_changes, self._changed)  # listening before "ready"
            task_status.started()
            await self._follow(SAFETY_POLL if self._store.watches_commits else self._poll_interval)

    async def _follow(self, poll: float) -> None:
        while True:
            with anyio.move_on_after(poll):
                await self._wake.wait()
            self._wake = anyio.Event()
            try:
                await self.deliver()
            except Exception:  # a failed round must not end notifications for good
                logger.exception("delivering resource updates failed; retrying on the next round")

    async def deliver(self) -> None:
        """Notify subscribers of everything logged since the last round."""
        subscribed = self._subscriptions.subscribed_uris()
        if not subscribed:
            self._seen = max(self._seen, await self._store.last_seq())
            return
        while batch := await self._store.events_after(self._seen):
            self._seen = batch[-1].seq
            for uri in matching_uris(batch, subscribed):
                await self._subscriptions.notify(uri)


def matching_uris(batch: Iterable[Event], subscribed: Iterable[str]) -> list[str]:
    """The subscribed URIs that at least one event in `batch` touches, in subscription order."""
    targets = []
    for uri in subscribed:
        try:
            targets.append((uri, uris.parse(uri)))
        except InvalidInput:
            continue  # a subscription to a URI that names nothing is never woken
    events = [(event.namespace, event.id) for event in batch]
    return [uri for uri, target in targets if any(target.matches(ns, item_id) for ns, item_id in events)]
