"""`SqliteStorage`: the `Storage` protocol over one SQLite file, i.e. over a blocking `ContextStore`.

Every call runs the store's method in a worker thread (never on the event loop). Other processes'
commits are noticed two ways (`watch_changes`): another context-store process sends a datagram
per commit (see `wakeups`), and a watcher thread checks SQLite's `PRAGMA data_version` every
`poll_interval` seconds on a connection of its own (a few microseconds, no event-loop work unless
something changed), which catches writers that send no wake-up. An in-memory store has neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from anyio.abc import TaskStatus

from .models import Event, EventPage, Item, ItemInput, SearchHit, Written
from .sqlite import connect
from .store import ContextStore
from .wakeups import Wakeups

if TYPE_CHECKING:
    from .embedders import Embedder
    from .limits import Limits

__all__ = ["SqliteStorage", "watch_commits"]

T = TypeVar("T")


class SqliteStorage:
    """`Storage` over a `ContextStore`; closing it closes the store."""

    backend = "sqlite"

    def __init__(self, store: ContextStore, poll_interval: float = 0.01) -> None:
        self.blocking = store
        self.poll_interval = poll_interval
        self.watches_commits = store.path is not None

    @property
    def embedder(self) -> Embedder | None:
        return self.blocking.embedder

    @property
    def limits(self) -> Limits:
        return self.blocking.limits

    @property
    def unindexed_namespaces(self) -> tuple[str, ...]:
        return self.blocking.unindexed_namespaces

    async def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))

    async def store_many(self, inputs: Sequence[ItemInput]) -> list[Written]:
        return await self._run(self.blocking.store_many, inputs)

    async def store(self, item: ItemInput) -> Written:
        return await self._run(self.blocking.store, item)

    async def delete(self, namespace: str, item_id: str) -> Written:
        return await self._run(self.blocking.delete, namespace, item_id)

    async def get(self, namespace: str, item_id: str) -> Item:
        return await self._run(self.blocking.get, namespace, item_id)

    async def query(
        self,
        namespaces: Sequence[str] = (),
        tags: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[Item]:
        return await self._run(self.blocking.query, namespaces, tags, since, until, limit)

    async def search(
        self, text: str, mode: str = "hybrid", limit: int = 10, **filters: Any
    ) -> list[SearchHit]:
        return await self._run(self.blocking.search, text, mode, limit, **filters)

    def check_search(self, text: str, mode: str, limit: int, *filters: Sequence[str]) -> None:
        self.blocking.check_search(text, mode, limit, *filters)

    async def read_events(
        self,
        after: int | None = None,
        namespaces: Sequence[str] = (),
        limit: int = 100,
        consumer: str | None = None,
    ) -> EventPage:
        return await self._run(self.blocking.read_events, after, namespaces, limit, consumer)

    async def ack(self, consumer: str, seq: int) -> int:
        return await self._run(self.blocking.ack, consumer, seq)

    async def cursor(self, consumer: str) -> int:
        return await self._run(self.blocking.cursor, consumer)

    async def last_seq(self) -> int:
        return await self._run(self.blocking.last_seq)

    async def events_after(self, seq: int, limit: int = 1000) -> list[Event]:
        return await self._run(self.blocking.events_after, seq, limit)

    async def purge_expired(self, now: float | None = None) -> int:
        return await self._run(self.blocking.purge_expired, now)

    async def compact_events(self, now: float | None = None) -> int:
        return await self._run(self.blocking.compact_events, now)

    async def pending_embeddings(self) -> int:
        return await self._run(self.blocking.pending_embeddings)

    async def embed_pending(
        self, batch: int = 64, now: float | None = None, idle_seconds: float = 0.0
    ) -> int:
        return await self._run(self.blocking.embed_pending, batch, now, idle_seconds)

    async def shrink_memory(self) -> None:
        await self._run(self.blocking.shrink_memory)

    async def count(self) -> tuple[int, int]:
        return await self._run(self.blocking.count)

    async def aclose(self) -> None:
        await self._run(self.blocking.close)

    async def watch_changes(
        self, on_change: Callable[[int], None], *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Call `on_change(0)` on every commit another connection makes; runs until cancelled."""
        task_status.started()
        if self.blocking.path is None:
            return  # an in-memory database has no other connection
        async with anyio.create_task_group() as tasks:
            if self.blocking.wakeups is not None:
                tasks.start_soon(_receive_wakeups, self.blocking.wakeups, on_change)
            await _watch(self.blocking.path, self.poll_interval, on_change)


async def _receive_wakeups(wakeups: Wakeups, on_change: Callable[[int], None]) -> None:
    """Another process's store committed: say so at once (see `wakeups`)."""
    receiver = wakeups.listen()
    if receiver is None:
        return
    try:
        while True:
            await anyio.wait_readable(receiver)
            with contextlib.suppress(BlockingIOError):
                while receiver.recv(64):
                    pass
            on_change(0)
    finally:
        wakeups.stop_listening(receiver)


async def _watch(path: Path, interval: float, on_change: Callable[[int], None]) -> None:
    stop = threading.Event()
    loop = asyncio.get_running_loop()

    def changed() -> None:  # from the watcher thread: hand the wake-up over, never wait for the loop
        loop.call_soon_threadsafe(on_change, 0)

    try:
        await anyio.to_thread.run_sync(watch_commits, path, interval, stop, changed, abandon_on_cancel=True)
    finally:
        stop.set()


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
