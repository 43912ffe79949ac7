"""Pepper's four MCP servers as real processes spoken to in raw JSON-RPC frames, with no MCP client in
between: bytes written to the stdin of a stdio server, or bodies POSTed to an HTTP one. For the
malformed-frame tests, the fuzz test and bench/fuzz_jsonrpc.py."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import REPO_ROOT, child_env, stop

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
MCP_ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass(frozen=True)
class ServerRecipe:
    """How to start one server on scratch data under a folder."""

    module: str
    arguments: Callable[[Path], list[str]]
    env: dict[str, str] = field(default_factory=dict)


def _maildir(folder: Path) -> list[str]:
    for sub in ("cur", "new", "tmp"):
        (folder / "Mail" / sub).mkdir(parents=True, exist_ok=True)
    return ["--maildir", str(folder / "Mail"), "--state-dir", str(folder / "gmail-state")]


def _calendar(folder: Path) -> list[str]:
    path = folder / "calendar.ics"
    path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//raw//EN\r\nEND:VCALENDAR\r\n")
    return ["--ics", str(path)]


SERVERS = {
    "context_store": ServerRecipe(
        "mcp_servers.context_store",
        lambda folder: ["--db", str(folder / "context.sqlite3")],
        {"PEPPER_CONTEXT_EMBEDDER": "none"},
    ),
    "gmail": ServerRecipe("mcp_servers.gmail", _maildir),
    "calendar": ServerRecipe("mcp_servers.calendar", _calendar),
    "notify": ServerRecipe(
        "mcp_servers.notify",
        lambda folder: ["--db", str(folder / "notify.sqlite3")],
        {"PEPPER_NOTIFY_DESKTOP": "off"},
    ),
}


class RawStdioServer:
    """`python -m <module>` over stdio pipes; frames in, reply lines out (read by a thread)."""

    def __init__(self, recipe: ServerRecipe, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / f"{recipe.module}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", recipe.module, *recipe.arguments(folder)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=child_env(recipe.env),
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read_replies, daemon=True).start()

    def __enter__(self) -> RawStdioServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._replies.put(json.loads(line))
        self._replies.put(None)

    def send(self, frame: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame + b"\n")
        self.process.stdin.flush()

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(json.dumps(message).encode())

    def reply(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next reply line; AssertionError if none comes within `timeout` or the server ended."""
        try:
            found = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply within {timeout} s; server log:\n{self.log()[-2000:]}") from None
        assert found is not None, f"the server closed its stdout; log:\n{self.log()[-2000:]}"
        return found

    def reply_to(self, request_id: object, timeout: float = 10.0) -> dict[str, Any]:
        """The reply with `request_id`, skipping any other (server notifications, earlier answers)."""
        while (found := self.reply(timeout)).get("id") != request_id or "method" in found:
            pass
        return found

    def initialize(self) -> dict[str, Any]:
        self.send_json(INITIALIZE)
        answer = self.reply_to("init")
        self.send_json(INITIALIZED)
        return answer

    def ping(self, request_id: str = "alive?") -> bool:
        self.send_json({"jsonrpc": "2.0", "id": request_id, "method": "ping"})
        return self.reply_to(request_id) == {"jsonrpc": "2.0", "id": request_id, "result": {}}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


class RawHttpSession:
    """A legacy-era MCP session over streamable HTTP, for POSTing raw bodies to `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=30)
        answer = self.client.post(url, json=INITIALIZE, headers=MCP_ACCEPT)
        answer.raise_for_status()
        self.headers = {
            **MCP_ACCEPT,
            "mcp-session-id": answer.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-06-18",
        }
        self.client.post(url, json=INITIALIZED, headers=self.headers).raise_for_status()

    def __enter__(self) -> RawHttpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def post(self, body: bytes) -> httpx.Response:
        return self.client.post(self.url, content=body, headers=self.headers)

    def ping(self, request_id: str = "alive?") -> bool:
        answer = self.post(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode())
        return answer.status_code == 200 and f'"id":"{request_id}","result":{{}}' in answer.text
