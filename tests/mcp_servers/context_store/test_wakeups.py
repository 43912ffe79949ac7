"""Commit wake-ups between stores on one database file: who is woken, and stale listeners."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.store import ContextStore
from mcp_servers.context_store.wakeups import SUPPORTED, Wakeups

pytestmark = pytest.mark.skipif(not SUPPORTED, reason="abstract Unix sockets are Linux-only")


def received(receiver: socket.socket) -> int:
    count = 0
    while True:
        try:
            receiver.recv(64)
        except BlockingIOError:
            return count
        count += 1


def test_a_commit_wakes_other_listeners_but_not_the_writers_own(db_path: Path) -> None:
    writer, other = ContextStore.open(db_path), Wakeups(db_path)
    own, theirs = writer.wakeups.listen(), other.listen()
    writer.store(ItemInput(namespace="notes", data=1))
    assert (received(own), received(theirs)) == (0, 1)
    for wakeups, receiver in ((writer.wakeups, own), (other, theirs)):
        wakeups.stop_listening(receiver)
    assert os.listdir(f"{db_path}.listeners") == []
    writer.close()


def test_a_listener_whose_process_is_gone_is_forgotten(db_path: Path) -> None:
    gone = Wakeups(db_path)
    gone.listen().close()  # the socket died with its process; its registration did not
    writer = ContextStore.open(db_path)
    assert len(os.listdir(f"{db_path}.listeners")) == 1
    writer.store(ItemInput(namespace="notes", data=1))
    assert os.listdir(f"{db_path}.listeners") == []
    writer.close()


def test_listeners_of_other_databases_are_not_woken(db_path: Path, tmp_path: Path) -> None:
    elsewhere = Wakeups(tmp_path / "other.sqlite3")
    receiver = elsewhere.listen()
    writer = ContextStore.open(db_path)
    writer.store(ItemInput(namespace="notes", data=1))
    assert received(receiver) == 0
    elsewhere.stop_listening(receiver)
    writer.close()
