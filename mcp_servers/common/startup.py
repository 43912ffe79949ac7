"""Start-up failures a user can fix, told in one line: `pepper-gmail: port 8766 on 127.0.0.1 is
already in use: ...` on stderr and exit status 2, instead of a traceback.

`StartupError` is raised for what is known to be the user's to fix (a missing token, a bad
`--host`); `bind_listener` turns the operating system's bind failures into one. Every server's
`__main__` runs under `reporting_startup_errors`, which finds such an error even inside the
exception groups of anyio task groups, prints its line and exits 2; the traceback follows only
with `--log-level DEBUG`. Anything else (a bug) keeps its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import sys
import traceback
from collections.abc import Iterator

__all__ = ["EXIT_STARTUP", "StartupError", "bind_listener", "reporting_startup_errors"]

EXIT_STARTUP = 2


class StartupError(Exception):
    """A server cannot start for a reason the user can fix; the message says what to do."""


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host`:`port`, ready for uvicorn; a StartupError that names the fix."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise StartupError(
            f"--host {host!r} is not an address of this machine ({exc}): "
            "use an IP address such as 127.0.0.1, or a name that resolves to one"
        ) from exc
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise StartupError(_bind_failure(host, port, exc)) from exc
    listener.set_inheritable(True)
    return listener


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use: stop the program listening there "
            "(`ss -ltnp` shows it) or choose another --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: use 127.0.0.1 or one of its own IPs"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}: choose a --port above 1023"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def user_message(exc: BaseException) -> str | None:
    """The one line to print for `exc` (found inside exception groups), or None for a bug."""
    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return user_message(exc.exceptions[0])
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, SystemExit) and isinstance(exc.code, str):
        return exc.code
    return None


@contextlib.contextmanager
def reporting_startup_errors(program: str) -> Iterator[None]:
    """Turn a `StartupError` (or a `SystemExit` with a message) into one line and exit status 2."""
    try:
        yield
    except KeyboardInterrupt:
        pass
    except BaseException as exc:
        message = user_message(exc)
        if message is None:
            raise
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            traceback.print_exception(exc, file=sys.stderr)
        prefix = "" if message.startswith(f"{program}:") else f"{program}: "
        print(f"{prefix}{message}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_STARTUP) from None
