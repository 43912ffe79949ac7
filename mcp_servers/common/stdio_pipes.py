"""Serving a FastMCP server over stdio pipes read and written by the event loop itself.

The SDK's `stdio_server()` reads each line and writes each reply through `anyio.wrap_file`, i.e. a
worker-thread hand-off per message in each direction. On a busy two-core machine those hand-offs are
a third of a small tool call's round trip. When fd 0 and fd 1 are pipes or sockets (as they are
under every MCP host), `serve_stdio` attaches them to the asyncio loop instead and hands the SDK
async line streams; anything else (a file, a terminal) gets FastMCP's own stdio transport.
As the SDK does, fd 0 is pointed at /dev/null and fd 1 at stderr while serving, so a stray
`print()` or a child process cannot corrupt the protocol stream; both are restored afterwards.

`serve_stdio` repeats the few lines of FastMCP 4.2's `run_stdio_async` (transport marker, lifespan,
SDK server loop) because that method does not accept streams; re-check it when FastMCP is upgraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
from collections.abc import AsyncIterator, Iterator

from fastmcp import FastMCP
from fastmcp.server.context import reset_transport, set_transport
from mcp.server.stdio import stdio_server

__all__ = ["serve_stdio"]

# Longest JSON-RPC line accepted (the SDK's threaded reader has no limit; this keeps one bounded).
MAX_LINE_BYTES = 256 * 1024 * 1024


class PipeLines:
    """The lines of a pipe, decoded as UTF-8 (invalid bytes replaced), as `async for` yields them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class PipeWriter:
    """Text written to a pipe; `flush` waits while the reader is behind (back-pressure)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _is_stream(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextlib.contextmanager
def _claimed(fd: int, replacement: int) -> Iterator[int]:
    """A private duplicate of `fd` (the wire), with `fd` itself pointed at `replacement`."""
    wire = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    saved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.dup2(replacement, fd)
    try:
        yield wire
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.asynccontextmanager
async def _pipe_streams() -> AsyncIterator[tuple[PipeLines, PipeWriter]]:
    loop = asyncio.get_running_loop()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        with _claimed(0, null) as wire_in, _claimed(1, 2) as wire_out:
            reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
            in_transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
            )
            out_transport, out_protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
            )
            writer = asyncio.StreamWriter(out_transport, out_protocol, None, loop)
            try:
                yield PipeLines(reader), PipeWriter(writer)
            finally:
                in_transport.close()
                out_transport.close()
    finally:
        os.close(null)


async def serve_stdio(server: FastMCP) -> None:
    """Serve `server` over this process's stdin/stdout until the host closes them."""
    if not (_is_stream(0) and _is_stream(1)):
        await server.run_stdio_async(show_banner=False)
        return
    token = set_transport("stdio")
    try:
        async with server._lifespan_manager(), _pipe_streams() as (lines, writer):
            async with stdio_server(lines, writer) as (read_stream, write_stream):
                low_level = server._mcp_server
                await low_level.run(read_stream, write_stream, low_level.create_initialization_options())
    finally:
        reset_transport(token)
