"""Serving a Pepper server (FastMCP or the SDK's MCPServer) over stdio with every frame checked, on
pipes or on plain files.

The SDK's `stdio_server()` reads each line and writes each reply through `anyio.wrap_file`, i.e. a
worker-thread hand-off per message in each direction. On a busy two-core machine those hand-offs are
a third of a small tool call's round trip. When fd 0 or fd 1 is a pipe or a socket (as under every
MCP host), `serve_stdio` attaches it to the asyncio loop instead; anything else (a regular file, as in
`server < requests.jsonl > replies.jsonl`, or a terminal) is read and written in a worker thread.
Either way each frame is checked first (frames.py): a malformed or oversized one gets its JSON-RPC
error here, since the SDK would drop it without a word. When the input is a regular file, its end
means "no more requests", not "the host is gone": the server answers every request it read before it
stops (for at most `DRAIN_SECONDS`). As the SDK does, fd 0 is pointed at /dev/null and fd 1 at stderr
while serving, so a stray `print()` or a child process cannot corrupt the protocol stream; both are
restored afterwards.

`serve_stdio` repeats the few lines of FastMCP 4.2's `run_stdio_async` (transport marker, lifespan,
SDK server loop) because that method does not accept streams; re-check it when FastMCP is upgraded.
An SDK `MCPServer`'s low-level loop enters its lifespan itself.
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
from typing import BinaryIO, Protocol

import anyio
from fastmcp import FastMCP
from fastmcp.server.context import reset_transport, set_transport
from mcp.server.stdio import stdio_server

from .frames import MAX_STDIO_FRAME_BYTES, frame_error, oversized_reply
from .surface import PepperServer, lowlevel

__all__ = ["serve_stdio"]

logger = logging.getLogger(__name__)
_OVERSIZED = b"<a frame over the limit>"
DRAIN_SECONDS = 60.0  # at the end of a file of requests, the longest wait for their answers
_SKIP_CHUNK = 1 << 16


class Frames(Protocol):
    async def read_frame(self) -> bytes | None:
        """One line (None at the end of the input); `_OVERSIZED` for a line over the limit, skipped."""
        ...


class Replies(Protocol):
    async def write(self, text: str) -> None: ...
    async def flush(self) -> None: ...


class PipeLines:
    """The frames (lines) of the input that the SDK can parse, as `async for` yields them. A frame it
    could not parse, or one longer than the limit, is answered here with a JSON-RPC error (see
    frames.py) and skipped; blank lines are skipped. With a `ledger` (a file of requests), the end of
    the input waits until every request read has been answered."""

    def __init__(self, frames: Frames, replies: Replies, limit: int, ledger: Ledger | None = None) -> None:
        self._frames = frames
        self._replies = replies
        self._limit = limit
        self._ledger = ledger

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        while True:
            frame = await self._frames.read_frame()
            if frame is None:
                if self._ledger is not None:
                    await self._ledger.all_answered(DRAIN_SECONDS)
                raise StopAsyncIteration
            if not frame.strip():
                continue
            error = oversized_reply(self._limit) if frame is _OVERSIZED else frame_error(frame)
            if error is None:
                if self._ledger is not None:
                    self._ledger.read(frame)
                return frame.decode("utf-8", errors="replace")
            logger.info("answered a malformed frame with %s", error["error"]["message"][:200])
            await self._replies.write(json.dumps(error) + "\n")
            await self._replies.flush()


class StreamFrames:
    """The lines of a pipe or socket, read by the event loop."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def read_frame(self) -> bytes | None:
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


class FileFrames:
    """The lines of a regular file or a terminal, read in a worker thread (the event loop cannot
    watch a regular file; a terminal shared with a shell must not be switched to non-blocking)."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self._file = file
        self._limit = limit

    async def read_frame(self) -> bytes | None:
        line = await anyio.to_thread.run_sync(self._file.readline, self._limit + 1, abandon_on_cancel=True)
        if len(line) <= self._limit:
            return line or None
        while line and not line.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
            line = await anyio.to_thread.run_sync(self._file.readline, _SKIP_CHUNK, abandon_on_cancel=True)
        return _OVERSIZED


class PipeWriter:
    """Text written to a pipe, one whole write at a time (replies never interleave); `flush` waits
    while the reader is behind (back-pressure)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


class FileWriter:
    """Text written to a regular file or a terminal, in a worker thread."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    async def write(self, text: str) -> None:
        await anyio.to_thread.run_sync(self._file.write, text.encode("utf-8"))

    async def flush(self) -> None:
        await anyio.to_thread.run_sync(self._file.flush)


class Ledger:
    """Requests read from a file against the answers written, so that the file's end can wait for
    the answers (the SDK stops serving, and cancels what is in flight, when its input ends)."""

    def __init__(self) -> None:
        self._waiting: set[object] = set()
        self._changed = anyio.Event()

    def read(self, frame: bytes) -> None:
        message = json.loads(frame)
        if isinstance(message, dict) and "method" in message and "id" in message:
            self._waiting.add(message["id"])

    def answered(self, text: str) -> None:
        message = json.loads(text)
        if isinstance(message, dict) and "method" not in message and "id" in message:
            self._waiting.discard(message["id"])
            self._changed.set()
            self._changed = anyio.Event()

    async def all_answered(self, patience: float) -> None:
        with anyio.move_on_after(patience):
            while self._waiting:
                await self._changed.wait()
        if self._waiting:
            logger.warning(
                "input ended; %d request(s) still unanswered after %g s", len(self._waiting), patience
            )


class CountedReplies:
    """Replies that tell the ledger which requests they answer."""

    def __init__(self, replies: Replies, ledger: Ledger) -> None:
        self._replies = replies
        self._ledger = ledger

    async def write(self, text: str) -> None:
        await self._replies.write(text)
        for line in filter(str.strip, text.splitlines()):
            self._ledger.answered(line)

    async def flush(self) -> None:
        await self._replies.flush()


def _is_stream(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


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
async def _wire_streams(limit: int) -> AsyncIterator[tuple[PipeLines, Replies]]:
    """The checked input lines and the output of this process's stdin/stdout, however they are
    connected (pipes to the event loop, anything else through worker threads)."""
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        with (
            _claimed(0, null) as wire_in,
            _claimed(1, 2) as wire_out,
            os.fdopen(wire_in, "rb", buffering=0) as source,
            os.fdopen(wire_out, "wb", buffering=0) as sink,
        ):
            async with _frames(source, limit) as frames, _replies(sink) as replies:
                if not _is_regular_file(wire_in):
                    yield PipeLines(frames, replies, limit), replies
                    return
                ledger = Ledger()
                counted = CountedReplies(replies, ledger)
                yield PipeLines(frames, counted, limit, ledger), counted
    finally:
        os.close(null)


@contextlib.asynccontextmanager
async def _frames(source: BinaryIO, limit: int) -> AsyncIterator[Frames]:
    if not _is_stream(source.fileno()):
        yield FileFrames(source, limit)
        return
    reader = asyncio.StreamReader(limit=limit)
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), source
    )
    try:
        yield StreamFrames(reader)
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def _replies(sink: BinaryIO) -> AsyncIterator[Replies]:
    if not _is_stream(sink.fileno()):
        yield FileWriter(sink)
        return
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sink)
    try:
        yield PipeWriter(asyncio.StreamWriter(transport, protocol, None, loop))
    finally:
        transport.close()


async def serve_stdio(server: PepperServer, max_frame_bytes: int = MAX_STDIO_FRAME_BYTES) -> None:
    """Serve `server` over this process's stdin/stdout until the host closes them (or, for a file of
    requests, until each has been answered)."""
    token = set_transport("stdio")
    try:
        lifespan = server._lifespan_manager() if isinstance(server, FastMCP) else contextlib.nullcontext()
        async with lifespan, _wire_streams(max_frame_bytes) as (lines, writer):
            async with stdio_server(lines, writer) as (read_stream, write_stream):
                low_level = lowlevel(server)
                await low_level.run(read_stream, write_stream, low_level.create_initialization_options())
    finally:
        reset_transport(token)
