"""A bare JSON-RPC client for the tool-argument fuzzer: Pepper's servers as real child processes, spoken
to over stdio lines or streamable-HTTP POSTs with no MCP client library in between.

The SDK's client validates and re-serialises what it sends (it drops its connection on a lone
surrogate, for one), so it cannot deliver every argument JSON can carry. Here a request is written as
`json.dumps` writes it (ASCII, lone surrogates as `\\ud800` escapes) and the answer is read back as
JSON: whatever a server does with an argument, the fuzzer sees it. `StdioWire` and `HttpWire` share
one method, `request(method, params)`, returning the JSON-RPC response object; the caller puts the
deadline around it.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import anyio
import httpx
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from tests.support.processes import REPO_ROOT, child_env, free_port

__all__ = ["HttpWire", "StdioWire", "Wire", "open_wire"]

PROTOCOL_VERSION = "2025-11-25"
MAX_REPLY_BYTES = 512 * 1024 * 1024
_INITIALIZE = {
    "protocolVersion": PROTOCOL_VERSION,
    "capabilities": {},
    "clientInfo": {"name": "pepper-tool-fuzzer", "version": "1"},
}


class Wire(Protocol):
    async def request(self, method: str, params: Any) -> dict[str, Any]: ...


def _frame(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=True).encode("ascii")


class StdioWire:
    """One stdio server process; requests are answered one at a time, in order."""

    def __init__(self, process: Process) -> None:
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self._lines = BufferedByteReceiveStream(process.stdout)
        self._ids = itertools.count(1)

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            message = json.loads(await self._lines.receive_until(b"\n", MAX_REPLY_BYTES))
            if "method" not in message and message.get("id") == request_id:
                return message
            if "method" in message and "id" in message:  # a request from the server: not supported
                error = {"code": -32601, "message": "the fuzzer answers no requests"}
                await self._send({"jsonrpc": "2.0", "id": message["id"], "error": error})

    async def notify(self, method: str) -> None:
        await self._send({"jsonrpc": "2.0", "method": method})

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(_frame(message) + b"\n")


class HttpWire:
    """One legacy-era MCP session over streamable HTTP; each request is one POST."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self._client = client
        self._headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        self._ids = itertools.count(1)

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        answer = await self._client.post(self.url, content=_frame(message), headers=self._headers)
        if "mcp-session-id" in answer.headers:
            self._headers["mcp-session-id"] = answer.headers["mcp-session-id"]
            self._headers["mcp-protocol-version"] = PROTOCOL_VERSION
        for reply in _replies(answer):
            if reply.get("id") == request_id and "method" not in reply:
                return reply
        return {"http_status": answer.status_code, "body": answer.text[:2000]}

    async def notify(self, method: str) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        await self._client.post(self.url, content=_frame(message), headers=self._headers)


def _replies(answer: httpx.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages in a response body: one JSON object, or the `data:` lines of an SSE stream."""
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        lines = re.split(
            r"\r\n|\r|\n", answer.text
        )  # SSE's line ends only: not str.splitlines's \x85, \u2028...
        bodies = [line[5:].strip() for line in lines if line.startswith("data:")]
    else:
        bodies = [answer.text]
    found = []
    for body in bodies:
        try:
            parsed = json.loads(body)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
    return found


@asynccontextmanager
async def open_wire(
    transport: str, module: str, arguments: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[StdioWire | HttpWire]:
    """Start `python -m module arguments` over `transport` ("stdio" or "http"), initialized; stop it after."""
    if transport == "stdio":
        async with _stdio(module, arguments, env, log) as wire:
            yield wire
    else:
        async with _http_server(module, arguments, env, log) as url:
            async with httpx.AsyncClient(timeout=None) as client:
                wire = HttpWire(url, client)
                await _initialize(wire)
                yield wire


@asynccontextmanager
async def _http_server(
    module: str, arguments: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[str]:
    """As `tests.support.processes.http_server`, with the server's log in a file: fuzzing makes a lot."""
    port = free_port()
    command = [sys.executable, "-m", module, "--transport", "http", "--port", str(port), *arguments]
    with log.open("wb") as stderr:
        process = await anyio.open_process(
            command,
            env=child_env(env),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    async with process:
        try:
            with anyio.fail_after(60):
                await _listening(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            await _stop(process)


async def _listening(port: int, process: Process) -> None:
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}")
        try:
            await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
            return
        except OSError:
            await anyio.sleep(0.05)


@asynccontextmanager
async def _stdio(
    module: str, arguments: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[StdioWire]:
    command = [sys.executable, "-m", module, *arguments]
    with log.open("wb") as stderr:
        process = await anyio.open_process(
            command, env=child_env(env), cwd=REPO_ROOT, stderr=stderr, start_new_session=True
        )
    async with process:
        wire = StdioWire(process)
        try:
            with anyio.fail_after(60):
                await _initialize(wire)
            yield wire
        finally:
            await _close(process)


async def _initialize(wire: StdioWire | HttpWire) -> None:
    answer = await wire.request("initialize", _INITIALIZE)
    assert "result" in answer, f"initialize failed: {answer}"
    await wire.notify("notifications/initialized")


async def _close(process: Process) -> None:
    """Close stdin (the polite stop), then terminate, then kill: a hung server must not outlive the run."""
    assert process.stdin is not None
    with anyio.CancelScope(shield=True):
        await process.stdin.aclose()
        with anyio.move_on_after(5):
            await process.wait()
    await _stop(process)


async def _stop(process: Process) -> None:
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            process.terminate()
            with anyio.move_on_after(5):
                await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
