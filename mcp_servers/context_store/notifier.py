"""Turning writes into `notifications/resources/updated`, for this process's writes and everyone else's.

One path serves both: the notifier follows the event log. It wakes when this process writes
(`wake()`), when another process's store commits to the same file and says so (a datagram, see
`wakeups`), and when any connection at all commits: a watcher thread checks SQLite's
`PRAGMA data_version` every `poll_interval` seconds on a connection of its own (a few microseconds,
no event-loop work unless something changed), which catches writers that send no wake-up. For each new event it notifies every subscribed URI that matches:
`context://namespace/{glob}` when the item's namespace matches the glob,
`context://item/{namespace}/{id}` exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import anyio
from anyio.abc import TaskStatus

from mcp_servers.common.subscriptions import ResourceSubscriptions

from . import uris
from .errors import InvalidInput
from .models import Event
from .sqlite import connect
from .store import ContextStore
from .wakeups import Wakeups

__all__ = ["ChangeNotifier", "matching_uris", "watch_commits"]

logger = logging.getLogger(__name__)

SAFETY_POLL = 5.0  # with the watcher on, a read of the log every few seconds only guards against surprises


class ChangeNotifier:
    """Follows the event log and notifies the subscribers of every matching URI."""

    def __init__(
        self, store: ContextStore, subscriptions: ResourceSubscriptions, poll_interval: float = 0.01
    ):
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

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        self._seen = await anyio.to_thread.run_sync(self._store.last_seq)
        async with anyio.create_task_group() as tasks:
            if self._store.path is not None:
                tasks.start_soon(self._watch, self._store.path)
            if self._store.wakeups is not None:
                tasks.start_soon(self._receive_wakeups, self._store.wakeups)
            task_status.started()
            await self._follow(SAFETY_POLL if self._store.path is not None else self._poll_interval)

    async def _follow(self, poll: float) -> None:
        while True:
            with anyio.move_on_after(poll):
                await self._wake.wait()
            self._wake = anyio.Event()
            try:
                await self.deliver()
            except Exception:  # a failed round must not end notifications for good
                logger.exception("delivering resource updates failed; retrying on the next round")

    async def _receive_wakeups(self, wakeups: Wakeups) -> None:
        """Another process's store committed: deliver now (see `wakeups`)."""
        receiver = wakeups.listen()
        if receiver is None:
            return
        try:
            while True:
                await anyio.wait_readable(receiver)
                with contextlib.suppress(BlockingIOError):
                    while receiver.recv(64):
                        pass
                self._wake.set()
        finally:
            wakeups.stop_listening(receiver)

    async def _watch(self, path: Path) -> None:
        stop = threading.Event()
        loop = asyncio.get_running_loop()

        def changed() -> None:  # from the watcher thread: hand the wake-up over, never wait for the loop
            loop.call_soon_threadsafe(lambda: self._wake.set())

        try:
            await anyio.to_thread.run_sync(
                watch_commits, path, self._poll_interval, stop, changed, abandon_on_cancel=True
            )
        finally:
            stop.set()

    async def deliver(self) -> None:
        """Notify subscribers of everything logged since the last round."""
        subscribed = self._subscriptions.subscribed_uris()
        if not subscribed:
            self._seen = max(self._seen, await anyio.to_thread.run_sync(self._store.last_seq))
            return
        while batch := await anyio.to_thread.run_sync(self._store.events_after, self._seen):
            self._seen = batch[-1].seq
            for uri in matching_uris(batch, subscribed):
                await self._subscriptions.notify(uri)


def watch_commits(path: Path, interval: float, stop: threading.Event, changed: Callable[[], None]) -> None:
    """Call `changed` (thread-safe, non-blocking) whenever a commit lands in the database; runs in a
    thread until `stop` is set. Blocking on the event loop here could hang the process at exit."""
    connection = connect(path)
    try:
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        while not stop.wait(interval):
            current = connection.execute("PRAGMA data_version").fetchone()[0]
            if current != version:
                version = current
                try:
                    changed()
                except RuntimeError:  # the event loop is closed: the server has shut down
                    return
    finally:
        connection.close()


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
