"""Background work below the user's: a thread of its own at a lowered OS priority.

On Linux each thread has its own `nice` value, so work handed to a `LowPriorityThread` (the context
store's embeddings, the gmail server's first indexing of a big mailbox) takes only the CPU that
user-facing work leaves (tool calls, new mail, the orchestrator's triage and chat), while still using
all of an otherwise idle machine. Threads it starts inherit the priority. Elsewhere the thread keeps
the process's priority. A priority once lowered cannot be raised again without privileges, hence a
thread of its own rather than a worker borrowed from a pool.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import anyio

__all__ = ["BACKGROUND_NICE", "LowPriorityThread", "lower_thread_priority"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
BACKGROUND_NICE = 10  # added to the process's nice value for a background thread


def lower_thread_priority(increment: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread's OS priority (Linux: per thread); returns whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + increment, 19))
    except OSError as exc:
        logger.info("a background thread keeps its priority: %s", exc)
        return False
    return True


class LowPriorityThread:
    """One thread, at `BACKGROUND_NICE`, that runs the calls given to it one at a time."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(1, name, initializer=lower_thread_priority)

    def submit(self, call: Callable[[], T]) -> Future[T]:
        return self._executor.submit(call)

    def call(self, call: Callable[[], T]) -> T:
        """Run `call` on the thread and wait for it (blocking: from a worker thread)."""
        return self._executor.submit(call).result()

    async def run(self, call: Callable[[], T]) -> T:
        """Run `call` on the thread; the waiting happens in a worker thread, not the event loop.
        Cancelling the caller does not stop a call already running."""
        return await anyio.to_thread.run_sync(self.call, call)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
