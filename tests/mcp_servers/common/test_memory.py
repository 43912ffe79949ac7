"""Pepper's processes cap glibc's malloc arenas, unless MALLOC_ARENA_MAX says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mcp_servers.common.memory import limit_arenas
from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

# Threads that allocate at once: without a cap each may get an arena (a 64 MB reservation) of its own.
THREADS = """
import threading
from mcp_servers.common.memory import limit_arenas
print(limit_arenas())
barrier = threading.Barrier(16)
def work():
    barrier.wait()
    for _ in range(200):
        blocks = [bytearray(512) for _ in range(100)]
        del blocks
threads = [threading.Thread(target=work) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
def size(line):
    start, end = line.split()[0].split("-")
    return int(end, 16) - int(start, 16)
with open("/proc/self/maps") as maps:  # arena heaps: anonymous, 64 MB with their reserve
    print(sum(1 for line in maps if len(line.split()) == 5 and size(line) >= 32 << 20))
"""


def _arenas(env: dict[str, str]) -> tuple[str, int]:
    run = subprocess.run([sys.executable, "-c", THREADS], env=env, capture_output=True, text=True, check=True)
    said, arenas = run.stdout.split()
    return said, int(arenas)


def test_the_cap_holds_the_arenas_down_and_the_variable_still_wins() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | {"PYTHONPATH": str(REPO_ROOT)}
    capped, uncapped = _arenas(env), _arenas(env | {"MALLOC_ARENA_MAX": "8"})
    assert capped[0] == "True" and uncapped[0] == "False"  # the user's setting is left alone
    assert capped[1] < uncapped[1]


def test_elsewhere_it_says_it_did_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert limit_arenas() is False
