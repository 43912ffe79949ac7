"""A stdio server dies with the host that spawned it, whatever signal ended the host.

A stdio server exits when its stdin closes, but only once its event loop gets round to noticing:
a server busy in a worker thread (embedding a batch, a long SQLite write) can outlive a host that was
SIGKILLed by many seconds, and the SDK starts each server in a session of its own, so nothing else
ends it. `die_with_parent()` asks Linux to send this process SIGTERM when its parent dies
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a daemon thread watches for the parent to change. A host that
sets `PEPPER_PARENT_PID` closes the race of a parent that died before the request was made.

A host can also set the signal before the server even starts importing, by spawning it through this
file: `python .../orphan_guard.py -- COMMAND ARGS...` sets it, then `exec`s COMMAND in the same
process (the signal survives `exec`). The orchestrator spawns every stdio server that way.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

__all__ = ["PARENT_PID_ENV", "die_with_parent", "guarded_command"]

logger = logging.getLogger(__name__)

PARENT_PID_ENV = "PEPPER_PARENT_PID"
PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Arrange for `signum` to end this process when its parent dies (at once if it already has)."""
    parent = os.getppid()
    if not (sys.platform.startswith("linux") and _set_parent_death_signal(signum)):
        threading.Thread(
            target=_watch_parent, args=(parent, signum), daemon=True, name="orphan-guard"
        ).start()
    if _parent_gone(os.environ.get(PARENT_PID_ENV)):
        logger.warning("the process that started this server is gone; stopping")
        os.kill(os.getpid(), signum)


def _set_parent_death_signal(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0:
            return True
        logger.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as exc:
        logger.warning("prctl is not available: %s", exc)
    return False


def _parent_gone(expected: str | None) -> bool:
    """True when the host named by `PEPPER_PARENT_PID` died before the guard was in place. A parent
    that differs but still exists is a wrapper (a shell, `uv run`) between the host and us."""
    if not expected or not expected.isdigit() or os.getppid() == int(expected):
        return False
    try:
        os.kill(int(expected), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _watch_parent(parent: int, signum: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_SECONDS):
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)
            return


def guarded_command(command: list[str]) -> list[str]:
    """`command`, started through this file so that it dies with its parent from its first moment.
    Runs this file by path, needing nothing importable; Linux only (elsewhere `command` as it is)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, os.path.abspath(__file__), "--", *command]


def main(argv: list[str]) -> None:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        raise SystemExit("usage: python orphan_guard.py -- COMMAND [ARGS...]")
    die_with_parent()
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        raise SystemExit(f"orphan_guard: cannot run {command[0]!r}: {exc}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
