"""A stdio client transport that says the moment its server process is gone.

FastMCP's `StdioTransport` notices a dead server only when the next call fails, so a server killed
between calls would still show as connected. `WatchedStdioTransport` spawns the server with the SDK's
`stdio_client` (same spawn, same shutdown) and relays the messages it reads to the session; when the
server's stdout ends, the relay sets `ended`, which `ServerConnection` waits on. The child is started through
mcp_servers.common.orphan_guard and told the orchestrator's pid (`PEPPER_PARENT_PID`), so that it dies
with the orchestrator however that ends.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import TextIO

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from fastmcp.client.transports import ClientTransport
from fastmcp.client.transports.base import SessionKwargs, TransportOptions
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.message import SessionMessage
from typing_extensions import Unpack

from mcp_servers.common.orphan_guard import PARENT_PID_ENV, guarded_command

__all__ = ["WatchedStdioTransport"]

Message = SessionMessage | Exception


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

    @asynccontextmanager
    async def connect_session(
        self, *, transport_options: TransportOptions | None = None, **session_kwargs: Unpack[SessionKwargs]
    ) -> AsyncIterator[ClientSession]:
        session_class = (transport_options or TransportOptions()).session_class
        self.ended = anyio.Event()
        async with stdio_client(self.parameters, errlog=self.errlog) as (server_output, server_input):
            sink, relayed = anyio.create_memory_object_stream[Message](0)
            async with anyio.create_task_group() as relay:
                relay.start_soon(self._relay, server_output, sink)
                try:
                    async with session_class(relayed, server_input, **session_kwargs) as session:
                        yield session
                finally:
                    relay.cancel_scope.cancel()
                    relayed.close()

    async def _relay(self, source: ObjectReceiveStream[Message], sink: ObjectSendStream[Message]) -> None:
        try:
            async with sink:
                with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
                    async for message in source:
                        await sink.send(message)
        finally:
            self.ended.set()

    def __repr__(self) -> str:
        return f"<WatchedStdioTransport {self.parameters.command} {' '.join(self.parameters.args)}>"
