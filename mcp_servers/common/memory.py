"""Fewer malloc arenas for Pepper's processes.

glibc gives threads that allocate at once arenas of their own (up to 8 per core), and memory freed
in an arena mostly stays with it. Pepper's servers run their blocking work on worker threads (a
mail index's parsing, SQLite, the embedder), so after a big first sync each process held tens of
megabytes of freed memory in idle arenas. `limit_arenas()`, called first thing by every server and
by the orchestrator, caps them at `ARENAS` (`mallopt(M_ARENA_MAX)`, as the `MALLOC_ARENA_MAX`
variable does, which still wins when set). Measured on the 100,000-message first sync
(`bench/first_sync.py`): the gmail server's peak USS 174 -> 135 MB, the context store's 381 -> 368 MB.
Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["ARENAS", "limit_arenas"]

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap the malloc arenas of this process (before its threads start); returns whether it did."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        return bool(name and ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
