"""A real Radicale CalDAV server on loopback (no authentication, each user owning their collections),
for the CalDAV provider's tests and the tests of a CalDAV calendar account beside others."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import caldav

from tests.support.processes import free_port, stop, wait_for_port

__all__ = ["calendar_of_new_user", "running_radicale"]


@contextmanager
def running_radicale(storage: Path) -> Iterator[str]:
    """Radicale storing under `storage`; yields its URL, stopped on exit."""
    port = free_port()
    command = [
        sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
        "--rights-type", "owner_only", "--storage-filesystem-folder", str(storage), "--auth-delay", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(process)


def calendar_of_new_user(url: str, *events: str) -> tuple[str, caldav.Calendar]:
    """A fresh user (any password is accepted) with one calendar `work` holding `events` (iCalendar)."""
    user = f"user{uuid.uuid4().hex[:8]}"
    client = caldav.DAVClient(url, username=user, password="x", timeout=10)
    calendar = client.principal().make_calendar(name="Work", cal_id="work")
    for event in events:
        calendar.add_event(event)
    return user, calendar
