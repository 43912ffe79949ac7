"""Commit wake-ups between processes that share one database file, so that a subscriber of one
server hears of another server's write at once instead of on its next `PRAGMA data_version` poll.

Each listening notifier binds a Unix datagram socket in Linux's abstract namespace (no file on disk,
no path-length limit) whose name is derived from the database's real path and a name of its own,
and registers that name as an empty file in `<db>.listeners/`. After each commit, a writer sends one
byte to every registered listener except its own store's; a listener that is gone refuses the
datagram and its entry is removed. The byte only means "look at the log", so a stray or forged one
costs a read of the log and nothing else. Where abstract sockets do not exist (not Linux), nothing is
registered and the `data_version` poll remains the way other processes' writes are noticed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import socket
import sys
from pathlib import Path

__all__ = ["Wakeups"]

logger = logging.getLogger(__name__)

SUPPORTED = sys.platform == "linux"


class Wakeups:
    """The listeners registered for one database file, and the datagrams that wake them."""

    def __init__(self, db_path: Path) -> None:
        real = os.path.realpath(db_path)
        self._key = hashlib.sha256(real.encode()).hexdigest()[:24]
        self._folder = Path(real + ".listeners")
        self._own: str | None = None
        self._sender: socket.socket | None = None

    def _address(self, name: str) -> bytes:
        return f"\0pepper-context-{self._key}-{name}".encode()

    def listen(self) -> socket.socket | None:
        """A non-blocking socket that receives a byte per commit by another store (None: unsupported)."""
        if not SUPPORTED:
            return None
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.setblocking(False)
        receiver.bind(self._address(name))
        self._folder.mkdir(exist_ok=True)
        (self._folder / name).touch()
        self._own = name
        return receiver

    def stop_listening(self, receiver: socket.socket | None) -> None:
        if receiver is not None:
            receiver.close()
        if self._own is not None:
            (self._folder / self._own).unlink(missing_ok=True)
            self._own = None

    def announce(self) -> None:
        """Wake every other listener on this database (after a commit; never blocks)."""
        try:
            names = os.listdir(self._folder)
        except FileNotFoundError:
            return
        for name in names:
            if name != self._own:
                self._send(name)

    def _send(self, name: str) -> None:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        try:
            self._sender.sendto(b"!", self._address(name))
        except (ConnectionRefusedError, FileNotFoundError):  # its process is gone: forget it
            (self._folder / name).unlink(missing_ok=True)
        except BlockingIOError:  # its queue is full: it has wake-ups waiting already
            pass
        except OSError as exc:
            logger.debug("could not wake listener %s: %s", name, exc)

    def close(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(OSError):
                self._sender.close()
            self._sender = None
