"""A stdio client transport that says the moment its server process is gone, and reads big results
in linear time.

FastMCP's `StdioTransport` notices a dead server only when the next call fails, so a server killed
between calls would still show as connected. `WatchedStdioTransport` spawns the server as the SDK's
`stdio_client` does (its own process group, the same environment, the same shutdown: stdin closed,
then SIGTERM to the group, then SIGKILL) and reads its output itself: when the server's stdout ends,
the reader sets `ended`, which `ServerConnection` waits on. The child is started through
mcp_servers.common.orphan_guard and told the orchestrator's pid (`PEPPER_PARENT_PID`), so that it dies
with the orchestrator however that ends.

Why its own reader: the SDK's joins each chunk read from the pipe (64 KiB at most, often less) to
the unfinished line so far and splits the whole again, so a result of a few megabytes (a batch of
100 messages) cost time quadratic in its size: 11.7% of the orchestrator's CPU in the
100,000-message first sync (`bench/first_sync.py`). Here a line's chunks are kept until its newline
arrives and joined once, as bytes (a newline byte never occurs inside a UTF-8 sequence), and the
JSON-RPC message is parsed from the bytes. A line that is not a JSON-RPC message reaches the
session as the parse error, as with the SDK.

`closed` is set once the spawn is fully wound down (stdin closed, the process gone and reaped, its
pipes and asyncio transport closed). The owner of the session waits for it (`wait_closed`): FastMCP's
client runs the session in a task of its own, and a client whose exit is cancelled returns at once
while that task is still stopping the server (the shutdown can take several seconds). Left to
itself, that task was cut off when the event loop ended, leaving an unreaped child and asyncio's
"unclosed transport" and "subprocess is still running" warnings at garbage collection.

The spawn and the process's shutdown are the SDK's own helpers (`mcp.client.stdio`, private names:
mcp is pinned in pyproject.toml, and tests/orchestrator/supervision runs every path against it).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TextIO

import anyio
import mcp_types
from anyio.abc import ObjectReceiveStream, ObjectSendStream, Process
from fastmcp.client.transports import ClientTransport
from fastmcp.client.transports.base import SessionKwargs, TransportOptions
from mcp import ClientSession, StdioServerParameters
from mcp.client import stdio as sdk_stdio
from mcp.shared.message import SessionMessage
from typing_extensions import Unpack

from mcp_servers.common.orphan_guard import PARENT_PID_ENV, guarded_command

__all__ = ["CLOSE_SECONDS", "LineSplitter", "WatchedStdioTransport", "parse_message"]

logger = logging.getLogger(__name__)

Message = SessionMessage | Exception
# The SDK's shutdown is bounded by about 6.5 s (0.5 s flush, 2 s for the server to exit, 2 s after
# SIGTERM, 2 s to observe the SIGKILL); this leaves it room on a loaded machine.
CLOSE_SECONDS = 10.0
FLUSH_SECONDS = 0.5  # for messages already handed to the writer, when the session ends


class WatchedStdioTransport(ClientTransport):
    """Spawns `command args` for one session; `ended` is set once the server's output ends."""

    def __init__(
        self,
        command: str,
        args: list[str],
        env: Mapping[str, str],
        cwd: str | None = None,
        errlog: TextIO | None = None,
    ) -> None:
        self.errlog = errlog or sys.stderr  # where the server's own log goes
        argv = guarded_command([command, *args])  # dies with the orchestrator, even while importing
        self.parameters = StdioServerParameters(
            command=argv[0], args=argv[1:], env={**env, PARENT_PID_ENV: str(os.getpid())}, cwd=cwd
        )
        self.ended = anyio.Event()
        self.closed = anyio.Event()
        self.closed.set()  # no session: nothing to wind down

    async def wait_closed(self, patience: float = CLOSE_SECONDS) -> None:
        """Return once the last session's server process is gone and reaped (at most `patience`
        seconds), even when the caller is being cancelled."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(patience):
            await self.closed.wait()

    @asynccontextmanager
    async def connect_session(
        self, *, transport_options: TransportOptions | None = None, **session_kwargs: Unpack[SessionKwargs]
    ) -> AsyncIterator[ClientSession]:
        session_class = (transport_options or TransportOptions()).session_class
        self.ended, self.closed = anyio.Event(), anyio.Event()
        try:
            async with self._spawned() as (server_output, server_input):
                async with session_class(server_output, server_input, **session_kwargs) as session:
                    yield session
        finally:
            self.closed.set()

    @asynccontextmanager
    async def _spawned(
        self,
    ) -> AsyncIterator[tuple[ObjectReceiveStream[Message], ObjectSendStream[SessionMessage]]]:
        """The server process, and the streams of its messages; on exit, the process stopped."""
        parameters = self.parameters
        process = await sdk_stdio._create_platform_compatible_process(
            command=await sdk_stdio._get_executable_command(parameters.command),
            args=parameters.args,
            env=sdk_stdio.get_default_environment() | (parameters.env or {}),
            errlog=self.errlog,
            cwd=parameters.cwd,
        )
        # No awaits from here to the task group: a cancellation in between would leak the process.
        read_sink, read = anyio.create_memory_object_stream[Message](0)
        write, write_source = anyio.create_memory_object_stream[SessionMessage](0)
        stopping, written = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as pipes:
            pipes.start_soon(self._read, process, read_sink, stopping)
            pipes.start_soon(_write, process, write_source, read_sink, written)
            try:
                yield read, write
            finally:
                stopping.set()
                with anyio.CancelScope(shield=True):  # the process is stopped even when cancelled
                    read.close()  # the reader goes on to drain the pipe, so a flushing server can exit
                    write.close()
                    with anyio.move_on_after(FLUSH_SECONDS):
                        await written.wait()
                    await sdk_stdio._stop_server_process(process)  # stdin closed, TERM, KILL; reaped
                    for stream in (read, write, read_sink, write_source):
                        await stream.aclose()
                pipes.cancel_scope.cancel()  # a survivor of the kill may still hold a pipe open

    async def _read(self, process: Process, sink: ObjectSendStream[Message], stopping: anyio.Event) -> None:
        """Relay the server's messages, a line each, to the session; `ended` once its output ends."""
        assert process.stdout is not None
        lines = LineSplitter()
        try:
            async with sink:
                try:
                    async for chunk in process.stdout:
                        for line in lines.feed(chunk):
                            if line.strip():
                                await sink.send(parse_message(line))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    pass  # the session is gone, or the shutdown closed the pipe under the read
                except ConnectionError:
                    if not stopping.is_set():
                        logger.warning("reading from %r failed", self, exc_info=True)
                finally:
                    await sdk_stdio._drain_stdout(process)  # until the shutdown closes the pipe
        finally:
            self.ended.set()

    def __repr__(self) -> str:
        return f"<WatchedStdioTransport {self.parameters.command} {' '.join(self.parameters.args)}>"


class LineSplitter:
    """Splits a byte stream into its lines: the chunks of an unfinished line are kept and joined
    once its newline arrives (linear in the line's size however many chunks it came in)."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines that `chunk` completes, without their newlines."""
        if b"\n" not in chunk:
            self._pending.append(chunk)
            return []
        lines = chunk.split(b"\n")
        if self._pending:
            lines[0] = b"".join([*self._pending, lines[0]])
        rest = lines.pop()
        self._pending = [rest] if rest else []
        return lines


def parse_message(line: bytes) -> Message:
    """One JSON-RPC message, or the error that says why the line is not one (the session reports it)."""
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        logger.warning("a line from an MCP server is not a JSON-RPC message: %s", str(exc)[:200])
        return exc


async def _write(
    process: Process,
    source: ObjectReceiveStream[SessionMessage],
    read_sink: ObjectSendStream[Message],
    written: anyio.Event,
) -> None:
    """Send the session's messages to the server, a line each. When the server's input breaks, the
    session's read stream is closed, so that a request ends instead of waiting for ever."""
    assert process.stdin is not None
    try:
        async with source:
            async for message in source:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                await process.stdin.send(data.encode() + b"\n")
    except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
        await read_sink.aclose()
    finally:
        written.set()
