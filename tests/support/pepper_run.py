"""Pepper as a real process, for the supervision tests and `bench/kill_matrix.py`.

`demo_copy` generates the demo mailbox and calendars once and hands out copies, so a clean run and a
run with kills read the same mail. `PepperRun` starts `python -m orchestrator.cli run --demo` on such
a copy in rules mode (no LLM, no embedder), finds its server children by their module, reads the
servers' states from `/pepper/api/state`, and waits until Pepper has nothing left to do. `Outcome`
is what a run leaves behind: the ids in `raw.email` and `signals.*` and the notifications, read
after Pepper has stopped through fresh server processes on its data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx

from orchestrator import remote
from orchestrator.config import OrchestratorSettings
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT, child_env, free_port, stop, wait_for_port

T = TypeVar("T")
SERVER_MODULES = {
    "context": "mcp_servers.context_store",
    "gmail": "mcp_servers.gmail",
    "calendar": "mcp_servers.calendar",
    "notify": "mcp_servers.notify",
}


def demo_copy(template: Path, target: Path) -> Path:
    """A fresh data dir at `target` holding the demo generated once under `template`."""
    if not (template / "mail").exists():
        from orchestrator.demo import generate_demo

        generate_demo(template)
    shutil.copytree(template, target)
    return target


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live (not zombie) process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), command)
    return table


def alive(pid: int) -> bool:
    return pid in process_table()


def wait_until(condition: Callable[[], T], timeout: float, what: str, every: float = 0.05) -> T:
    """Poll `condition` until it returns something true; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(every)
    return result


class PepperRun:
    """One `run --demo` process on `data_dir`; `start`, `kill_server`, `settle`, `stop`."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    def start(self, timeout: float = 90.0) -> None:
        env = child_env(
            {"PEPPER_CONFIG": str(self.data_dir / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"}
        )
        for name in (
            "OPENAI_BASE_URL",
            "OPENAI_API_KEY",
            "PEPPER_MODEL",
            "PEPPER_UI_TOKEN",
            "PEPPER_UI_HOST",
        ):
            env.pop(name, None)
        command = [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "run",
            "--demo",
            "--data-dir",
            str(self.data_dir),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        wait_for_port(self.port, self.process, timeout)
        wait_until(lambda: self.state() is not None, timeout, "Pepper's state never loaded", every=0.2)

    @property
    def pid(self) -> int:
        assert self.process is not None, "Pepper is not running"
        return self.process.pid

    def servers(self) -> dict[str, int]:
        """Server name -> pid of Pepper's stdio children."""
        found = {}
        for pid, (parent, command) in process_table().items():
            if parent == self.pid:
                found.update({n: pid for n, module in SERVER_MODULES.items() if f"-m {module} " in command})
        return found

    def state(self) -> dict[str, Any] | None:
        """`/pepper/api/state` (its 503 answer, with the status only, while the store restarts)."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.port}/pepper/api/state", timeout=10)
            return response.json() if response.status_code in (200, 503) else None
        except (httpx.HTTPError, ValueError):
            return None

    def status_text(self) -> str:
        """What `pepper-orchestrator status` prints for this Pepper."""
        return remote.status(OrchestratorSettings(ui_host="127.0.0.1", ui_port=self.port, ui_token=None))

    def status(self) -> dict[str, Any] | None:
        """`/pepper/api/status`: the servers' states from memory (what `status` prints first)."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.port}/pepper/api/status", timeout=10)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    def server_state(self, name: str) -> str | None:
        status = self.status()
        states = {s["name"]: s["state"] for s in status["servers"]} if status else {}
        return states.get(name)

    def kill_server(self, name: str) -> float:
        """SIGKILL the server's process; returns the seconds until Pepper showed it as down."""
        pid = self.servers()[name]
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_until(lambda: self.server_state(name) == "down", 10, f"{name} never showed as down")
        return time.monotonic() - killed

    def wait_connected(self, name: str, timeout: float = 30.0) -> None:
        wait_until(lambda: self.server_state(name) == "connected", timeout, f"{name} never came back")

    def settle(self, timeout: float = 180.0, quiet: float = 4.0) -> None:
        """Wait until every server is connected, every message of the mailbox is in `raw.email`,
        nothing is queued or in flight, and the event log has not moved for `quiet` seconds. (The
        mail ingest writes a page of 100 messages at once: after a restart of the gmail server the
        first page can take longer than `quiet` on a loaded machine.)"""
        deadline = time.monotonic() + timeout
        wait_until(self.started, timeout, "Pepper never finished starting", 0.2)
        last, since = None, time.monotonic()
        while time.monotonic() - since < quiet:
            assert self.process is not None and self.process.poll() is None, "Pepper exited"
            if time.monotonic() > deadline:
                raise TimeoutError(f"Pepper did not settle within {timeout:g} s")
            snapshot = self.state() or {}
            status = snapshot.get("status") or {}
            busy = status.get("queued", 1) or status.get("in_flight", [1]) or not self.mail_ingested()
            down = any(s["state"] != "connected" for s in status.get("servers", [{"state": "?"}]))
            mark = (snapshot.get("cursor"), busy, down)
            if busy or down or mark != last:
                last, since = mark, time.monotonic()
            time.sleep(0.5)

    def mail_ingested(self) -> bool:
        """Every message of the demo mailbox is stored as a `raw.email` item."""
        mailbox = sum(1 for sub in ("cur", "new") for _ in (self.data_dir / "mail" / sub).iterdir())
        try:
            with closing(
                sqlite3.connect(f"file:{self.data_dir / 'context.sqlite3'}?mode=ro", uri=True)
            ) as db:
                [stored] = db.execute("SELECT count(*) FROM items WHERE namespace = 'raw.email'").fetchone()
        except sqlite3.Error:  # not created yet, busy for a moment, or stored otherwise: cannot tell
            return True
        return stored >= mailbox

    def started(self) -> bool:
        """This start (not an earlier one on the same log) printed its summary."""
        with self.log.open("rb") as log:
            log.seek(self._log_start)
            return b"Pepper is running." in log.read()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@dataclass(frozen=True)
class Outcome:
    emails: frozenset[str]
    signals: frozenset[str]
    notifications: Counter[str]  # dedupe key -> how many notifications carry it

    def compare(self, clean: Outcome) -> dict[str, int]:
        """lost and duplicated, counted against a clean run."""
        lost = len(clean.emails - self.emails) + len(clean.signals - self.signals)
        lost += len(set(clean.notifications) - set(self.notifications))
        duplicated = sum(count - 1 for count in self.notifications.values() if count > 1)
        return {
            "lost": lost,
            "duplicated": duplicated,
            "extra": len(set(self.notifications) - set(clean.notifications)),
        }


def read_outcome(data_dir: Path) -> Outcome:
    """What a stopped Pepper stored on `data_dir`."""
    return anyio.run(_read_outcome, data_dir)


async def _read_outcome(data_dir: Path) -> Outcome:
    env = {"PYTHONPATH": str(REPO_ROOT), "PEPPER_CONTEXT_EMBEDDER": "none"}
    python = [sys.executable, "-m"]
    context = ServerConnection(
        ServerSpec(
            name="context",
            command=[*python, SERVER_MODULES["context"], "--db", str(data_dir / "context.sqlite3")],
            env=env,
        )
    )
    notify = ServerConnection(
        ServerSpec(
            name="notify",
            command=[*python, SERVER_MODULES["notify"], "--db", str(data_dir / "notify.sqlite3")],
            env=env,
        )
    )
    async with anyio.create_task_group() as task_group:
        await task_group.start(context.run)
        await task_group.start(notify.run)
        emails = await _ids(context, "raw.email")
        signals = await _ids(context, "signals.*")
        listing = await notify.call_tool("list_notifications", {"limit": 500})
        task_group.cancel_scope.cancel()
    notes = (listing.structured or {}).get("notifications", [])
    return Outcome(emails, signals, Counter(n.get("dedupe_key") or n["id"] for n in notes))


async def _ids(context: ServerConnection, namespace: str) -> frozenset[str]:
    outcome = await context.call_tool("query", {"namespaces": [namespace], "limit": 1000})
    return frozenset(f"{i['namespace']}/{i['id']}" for i in (outcome.structured or {}).get("items", []))


def describe(outcome: Outcome) -> str:
    return json.dumps(
        {
            "emails": len(outcome.emails),
            "signals": len(outcome.signals),
            "notifications": len(outcome.notifications),
        }
    )
