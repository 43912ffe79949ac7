"""An MCP client session over the pipes of a server process that is already running.

FastMCP's `StdioTransport` spawns its process; `AdoptedStdioTransport` takes one `EarlyServers`
started, for one session (a reconnection spawns anew). Messages are JSON-RPC lines, read and written
by the event loop on the process's pipes; when the session ends, stdin is closed and the process is
given `GRACE_SECONDS` to exit before its process group is terminated, as the SDK's stdio client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from fastmcp.client.transports import ClientTransport
from fastmcp.client.transports.base import TransportOptions
from mcp import ClientSession
from mcp.shared.message import SessionMessage

from orchestrator.early_servers import stop_process

__all__ = ["AdoptedStdioTransport"]

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 256 * 1024 * 1024


class AdoptedStdioTransport(ClientTransport):
    """One session with an already running stdio server process."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process: subprocess.Popen[bytes] | None = process

    @contextlib.asynccontextmanager
    async def connect_session(
        self, *, transport_options: TransportOptions | None = None, **session_kwargs: Any
    ) -> AsyncIterator[ClientSession]:
        process, self._process = self._process, None
        if process is None:
            raise RuntimeError("an adopted server process serves one session; reconnect with a new transport")
        options = transport_options or TransportOptions()
        async with _pipe_streams(process) as (read_stream, write_stream):
            async with options.session_class(
                read_stream=read_stream, write_stream=write_stream, **session_kwargs
            ) as session:
                yield session

    def __repr__(self) -> str:
        pid = self._process.pid if self._process else "used"
        return f"<AdoptedStdioTransport(pid={pid})>"


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        logger.exception("the MCP server wrote a line that is not JSON-RPC")
        return exc


@contextlib.asynccontextmanager
async def _pipe_streams(
    process: subprocess.Popen[bytes],
) -> AsyncIterator[tuple[MemoryObjectReceiveStream[Any], MemoryObjectSendStream[SessionMessage]]]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    stdout, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), process.stdout)
    stdin, flow = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, process.stdin)
    writer = asyncio.StreamWriter(stdin, flow, None, loop)
    incoming_send, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outgoing, outgoing_receive = anyio.create_memory_object_stream[SessionMessage](0)

    async def read_lines() -> None:
        async with incoming_send:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, ConnectionError):
                while line := await reader.readline():
                    await incoming_send.send(_parse(line))

    async def write_lines() -> None:
        async with outgoing_receive:
            with contextlib.suppress(ConnectionError, anyio.ClosedResourceError):
                async for message in outgoing_receive:
                    writer.write(
                        message.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
                    )
                    await writer.drain()

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_lines)
            tasks.start_soon(write_lines)
            try:
                yield incoming, outgoing
            finally:
                tasks.cancel_scope.cancel()
    finally:
        incoming.close()
        outgoing.close()
        stdin.close()  # EOF on the server's stdin: its cue to exit
        stdout.close()  # before the pipe's file is closed under the loop's reader
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(stop_process, process)
