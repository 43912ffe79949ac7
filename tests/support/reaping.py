"""Collecting, inside the test that made them, the server processes a killed-and-respawned
connection leaves to the garbage collector.

Tests that SIGKILL servers and let `ServerConnection` respawn them sometimes end while the SDK's
stdio client is still giving up on a process it killed (it abandons one the event loop has not seen
die within its reap timeout); asyncio then warns, from `__del__`, that the subprocess transport was
never closed. Left alone, that warning is raised in whichever later test the garbage collector happens
to run in. `collect_abandoned_processes` runs the collector at the end of each test of a module that
kills servers, and the module's `ABANDONED_PROCESS_WARNINGS` mark ignores exactly those two warnings
there (the processes themselves are gone: `test_server_kills` checks that none is left behind).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

ABANDONED_PROCESS_WARNINGS = [
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <function (BaseSubprocessTransport|Popen)\.__del__"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(autouse=True)
def collect_abandoned_processes() -> Iterator[None]:
    yield
    gc.collect()
