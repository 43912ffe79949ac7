"""Serving a FastMCP server over stdio pipes read and written by the event loop itself.

The SDK's `stdio_server()` reads each line and writes each reply through `anyio.wrap_file`, i.e. a
worker-thread hand-off per message in each direction. On a busy two-core machine those hand-offs are
a third of a small tool call's round trip. When fd 0 and fd 1 are pipes or sockets (as they are
under every MCP host), `serve_stdio` attaches them to the asyncio loop instead and hands the SDK
async line streams; anything else (a file, a terminal) gets FastMCP's own stdio transport.
Each frame is checked first (frames.py): a malformed or oversized one gets its JSON-RPC error here,
since the SDK would drop it without a word. As the SDK does, fd 0 is pointed at /dev/null and fd 1
at stderr while serving, so a stray `print()` or a child process cannot corrupt the protocol
stream; both are restored afterwards.

`serve_stdio` repeats the few lines of FastMCP 4.2's `run_stdio_async` (transport marker, lifespan,
SDK server loop) because that method does not accept streams; re-check it when FastMCP is upgraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import stat
from collections.abc import AsyncIterator, Iterator

from fastmcp import FastMCP
from fastmcp.server.context import reset_transport, set_transport
from mcp.server.stdio import stdio_server

from .frames import MAX_STDIO_FRAME_BYTES, frame_error, oversized_reply

__all__ = ["serve_stdio"]

logger = logging.getLogger(__name__)
_OVERSIZED = b"<a frame over the limit>"


class PipeLines:
    """The frames (lines) of a pipe that the SDK can parse, as `async for` yields them. A frame it
    could not parse, or one longer than `limit`, is answered here with a JSON-RPC error (see frames.py)
    and skipped; blank lines are skipped."""

    def __init__(self, reader: asyncio.StreamReader, replies: PipeWriter, limit: int) -> None:
        self._reader = reader
        self._replies = replies
        self._limit = limit

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        while True:
            frame = await self._read_frame()
            if frame is None:
                raise StopAsyncIteration
            if not frame.strip():
                continue
            error = oversized_reply(self._limit) if frame is _OVERSIZED else frame_error(frame)
            if error is None:
                return frame.decode("utf-8", errors="replace")
            logger.info("answered a malformed frame with %s", error["error"]["message"][:200])
            await self._replies.write(json.dumps(error) + "\n")
            await self._replies.flush()

    async def _read_frame(self) -> bytes | None:
        """One line (None at the end of the input); `_OVERSIZED` for a line over the limit, skipped."""
        try:
            return await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return exc.partial or None
        except asyncio.LimitOverrunError:
            await self._skip_line()
            return _OVERSIZED

    async def _skip_line(self) -> None:
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


class PipeWriter:
    """Text written to a pipe, one whole write at a time (replies never interleave); `flush` waits
    while the reader is behind (back-pressure)."""

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
async def _pipe_streams(limit: int) -> AsyncIterator[tuple[PipeLines, PipeWriter]]:
    loop = asyncio.get_running_loop()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        with _claimed(0, null) as wire_in, _claimed(1, 2) as wire_out:
            reader = asyncio.StreamReader(limit=limit)
            in_transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
            )
            out_transport, out_protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
            )
            writer = asyncio.StreamWriter(out_transport, out_protocol, None, loop)
            try:
                replies = PipeWriter(writer)
                yield PipeLines(reader, replies, limit), replies
            finally:
                in_transport.close()
                out_transport.close()
    finally:
        os.close(null)


async def serve_stdio(server: FastMCP, max_frame_bytes: int = MAX_STDIO_FRAME_BYTES) -> None:
    """Serve `server` over this process's stdin/stdout until the host closes them."""
    if not (_is_stream(0) and _is_stream(1)):
        await server.run_stdio_async(show_banner=False)
        return
    token = set_transport("stdio")
    try:
        async with server._lifespan_manager(), _pipe_streams(max_frame_bytes) as (lines, writer):
            async with stdio_server(lines, writer) as (read_stream, write_stream):
                low_level = server._mcp_server
                await low_level.run(read_stream, write_stream, low_level.create_initialization_options())
    finally:
        reset_transport(token)
