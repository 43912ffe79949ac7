"""Long-lived MCP client sessions to Pepper's servers, reconnected when they fail.

One `ServerConnection` per server, shared by every worker and feed: a process is spawned (stdio) or a
URL is opened (streamable HTTP) once, not per call. `run()` owns the session in its own task; it
notices a lost session at once (a stdio server's output ending, an HTTP server failing its health
ping, a call breaking the session), shows the server as down, and respawns or reconnects with
exponential backoff. A call on a lost session fails with `ServerUnavailable`, which carries the
connection so a caller can `await exc.connection.wait_available()` (orchestrator.supervision has the
helpers that loops use). A tool's own failure is `ToolCallFailed`; a call past its deadline is
`ToolCallTimeout`. `tools_change()` is set when the server's tool list may have changed: on
`notifications/tools/list_changed` (either protocol era) and on every new session.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol, TextIO, TypeVar

import anyio
import mcp_types
from anyio.abc import TaskStatus
from fastmcp import Client
from fastmcp.client.messages import MessageHandler
from fastmcp.client.transports import ClientTransport, StreamableHttpTransport
from mcp.client.subscriptions import listen
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field, SecretStr

from orchestrator.supervision.stdio import WatchedStdioTransport

__all__ = [
    "ConnectionState",
    "RemoteTool",
    "ServerConnection",
    "ServerSpec",
    "ServerUnavailable",
    "ToolCallFailed",
    "ToolCallTimeout",
    "ToolCaller",
    "ToolOutcome",
]

T = TypeVar("T")
logger = logging.getLogger(__name__)
INITIAL_BACKOFF = 0.25
STABLE_SECONDS = 10.0  # a session that lasted this long resets the backoff
PING_MISSES = 2


class ServerSpec(BaseModel):
    """How to reach one MCP server: a command to spawn over stdio, or an HTTP URL."""

    name: str
    command: list[str] = Field(default_factory=list, description="argv of a stdio server")
    url: str | None = Field(None, description="streamable HTTP endpoint, instead of a command")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment for the child")
    token: SecretStr | None = Field(None, description="bearer token for an HTTP server")

    def transport(self, errlog: TextIO | None = None) -> ClientTransport:
        """The client transport; `errlog` receives a stdio server's own log (default: stderr)."""
        if self.url:
            headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else None
            return StreamableHttpTransport(self.url, headers=headers)
        if not self.command:
            raise ValueError(f"server {self.name!r} needs a command or a url")
        return WatchedStdioTransport(
            self.command[0], self.command[1:], env={**os.environ, **self.env}, errlog=errlog
        )


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DOWN = "down"


class ServerUnavailable(RuntimeError):
    """The server cannot be reached now; the connection keeps trying in the background, and
    `connection.wait_available()` returns once it is back."""

    def __init__(self, message: str, connection: ServerConnection | None = None) -> None:
        super().__init__(message)
        self.connection = connection


class ToolCallFailed(RuntimeError):
    """The tool ran and reported an error."""


class ToolCallTimeout(RuntimeError):
    """The tool did not answer in time."""


class RemoteTool(BaseModel):
    """A tool offered by a server, as workers present it to the model."""

    server: str
    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


class ToolOutcome(BaseModel):
    """What a successful call returned: its text and, when the tool has one, its structured result."""

    text: str
    structured: dict[str, Any] | None = None


class ToolCaller(Protocol):
    """What the typed wrappers (ContextItems, EventLog) need: a `ServerConnection`, or a view of
    one such as orchestrator.supervision.retry.PatientConnection."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], deadline: float | None = None
    ) -> ToolOutcome: ...

    async def read_resource(self, uri: str) -> str: ...

    async def watch(self, uri: str, wake: Callable[[], None]) -> None: ...


class _ToolListHandler(MessageHandler):
    """Relays a handshake-era session's `notifications/tools/list_changed`."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed

    async def on_tool_list_changed(self, message: mcp_types.ToolListChangedNotification) -> None:
        self._changed()


def _trust_results(client: Client) -> None:
    """Skip the session's check of structured results against output schemas (see
    `ServerConnection.trust_results`): the SDK's `ClientSession.validate_tool_result` is its one hook."""

    async def trusted(name: str, result: mcp_types.CallToolResult) -> None:
        return None

    client.session.validate_tool_result = trusted  # type: ignore[method-assign]


class ServerConnection:
    """A shared, self-healing session to one server."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        call_timeout: float = 60.0,
        connect_timeout: float = 20.0,
        max_backoff: float = 30.0,
        health_interval: float = 1.0,
        init_timeout: float | None = None,
        follow_tools: bool = False,
        trust_results: bool = False,
    ) -> None:
        self.spec = spec
        # Pepper's own servers build each result from the tool's typed return, so checking it again
        # against the advertised output schema (jsonschema, a fifth of the orchestrator's CPU in a
        # big first sync) is skipped for them; a server the user added is always checked.
        self.trust_results = trust_results
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout  # how long a call waits for a session
        self.init_timeout = init_timeout or connect_timeout  # how long a new session may take to start
        self.max_backoff = max_backoff
        self.health_interval = health_interval
        self.state = ConnectionState.CONNECTING
        self.state_since = time.time()
        self.last_error: str | None = None
        self.reconnects = 0
        self.calls: Counter[str] = Counter()  # tool calls made, by tool name (figures for status, benches)
        self._client: Client | None = None
        self._ready = anyio.Event()
        self._lost = anyio.Event()
        self._changed = anyio.Event()
        self.follow_tools = follow_tools  # also listen for tool-list changes on 2026-07-28 sessions
        self._tools_changed = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Hold the session open; when it ends (the server died, a call broke it, an HTTP server
        stopped answering), mark the server down at once and reconnect (a stdio server: respawn)
        with exponential backoff. Started once the first attempt ends, whether it connected or not
        (a server that is down must not stop the rest)."""
        backoff, started = INITIAL_BACKOFF, False
        while True:  # after a loss the server shows as down, not connecting, until it is back
            connected_at = await self._hold_session(task_status if not started else None)
            started = True
            if connected_at is not None and anyio.current_time() - connected_at >= STABLE_SECONDS:
                backoff = INITIAL_BACKOFF  # a server that crashes at once is not respawned in a tight loop
            await anyio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
            self.reconnects += 1

    async def _hold_session(self, task_status: TaskStatus[None] | None) -> float | None:
        """One session, from connecting to its end; returns when it connected (None: never)."""
        connected_at = None
        transport = self.spec.transport()
        try:
            handler = _ToolListHandler(self._signal_tools_changed)
            async with Client(transport, init_timeout=self.init_timeout, message_handler=handler) as client:
                connected_at = anyio.current_time()
                if self.trust_results:
                    _trust_results(client)
                self._client, self.last_error, self._lost = client, None, anyio.Event()
                self._set_state(ConnectionState.CONNECTED)
                self._ready.set()
                self._signal_tools_changed()  # a new session (a respawned server) may offer other tools
                if task_status is not None:
                    task_status.started()
                    task_status = None
                self.last_error = await self._until_lost(client, transport)
                self._mark_down()  # before the teardown below, which may take a moment
        except Exception as exc:  # any failure to connect or to stay connected is retried
            self.last_error = f"{type(exc).__name__}: {exc}"
        finally:  # the old process is gone before a new one is spawned, or before `run` ends
            if isinstance(transport, WatchedStdioTransport):
                await transport.wait_closed()
        self._mark_down()
        logger.warning("MCP server %s unavailable: %s", self.spec.name, self.last_error)
        if task_status is not None:
            task_status.started()
        return connected_at

    async def _until_lost(self, client: Client, transport: ClientTransport) -> str:
        """Wait for whichever comes first: a call that broke the session, the stdio server's
        output ending (it died), or an HTTP server failing its health ping. Returns why."""
        reasons: list[str] = []
        async with anyio.create_task_group() as watchers:

            async def first(reason: str, wait: Callable[[], Awaitable[Any]]) -> None:
                await wait()
                reasons.append(reason)
                watchers.cancel_scope.cancel()

            watchers.start_soon(first, "the session broke during a call", self._lost.wait)
            if isinstance(transport, WatchedStdioTransport):
                watchers.start_soon(first, "the server process exited", transport.ended.wait)
            else:
                watchers.start_soon(first, "the server stopped answering pings", lambda: self._probe(client))
            if self.follow_tools:
                watchers.start_soon(self._listen_for_tool_changes, client)
        return reasons[0] if reasons else "the session ended"

    async def _listen_for_tool_changes(self, client: Client) -> None:
        """On a 2026-07-28 session, tool-list changes arrive only on a listen stream; a handshake-era
        session delivers them to the message handler instead. Ends with the session."""
        try:
            async with listen(client.session, tools_list_changed=True) as subscription:
                async for _ in subscription:
                    self._signal_tools_changed()
        except Exception as exc:  # no listen support (or a lost stream): the legacy path remains
            logger.info("%s: no tool-list subscription (%s)", self.spec.name, exc)

    def _signal_tools_changed(self) -> None:
        self._tools_changed.set()
        self._tools_changed = anyio.Event()

    def tools_change(self) -> anyio.Event:
        """The event set at the next sign that the server's tools may have changed (take it before
        reading the tools, so that a change while reading is not missed)."""
        return self._tools_changed

    async def _probe(self, client: Client) -> None:
        """Returns once the server has missed `PING_MISSES` health pings in a row."""
        misses = 0
        while misses < PING_MISSES:
            await anyio.sleep(self.health_interval)
            misses = 0 if await self._answers_ping(client) else misses + 1

    async def _answers_ping(self, client: Client) -> bool:
        with anyio.move_on_after(self.health_interval * 2):
            try:
                return bool(await client.ping())
            except Exception:  # a failed ping is the fact we are looking for
                return False
        return False

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self.state:
            self.state, self.state_since = state, time.time()
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_changed(self) -> None:
        """Returns at the next change of `state` (for the UI's live status)."""
        await self._changed.wait()

    async def wait_available(self) -> None:
        """Returns once the server is connected (at once if it is)."""
        await self._wait_connected()

    def _session_lost(self, client: Client) -> None:
        """Stop handing out `client` at once; `run()` opens the next session."""
        if client is self._client:
            self._client = None
            if self._ready.is_set():
                self._ready = anyio.Event()
            self._lost.set()

    def _mark_down(self) -> None:
        self._client = None
        self._set_state(ConnectionState.DOWN)
        if self._ready.is_set():  # callers already waiting keep the event that the reconnect will set
            self._ready = anyio.Event()

    def unavailable(self, message: str) -> ServerUnavailable:
        return ServerUnavailable(message, connection=self)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], deadline: float | None = None
    ) -> ToolOutcome:
        """Call `name` on the server; raises ServerUnavailable, ToolCallFailed or ToolCallTimeout."""
        client = await self._connected_client()
        deadline = deadline or self.call_timeout
        self.calls[name] += 1
        try:
            with anyio.fail_after(deadline):
                result = await client.call_tool_mcp(name, arguments)
        except TimeoutError as exc:
            raise ToolCallTimeout(f"{self.spec.name}.{name} did not answer within {deadline:g} s") from exc
        except Exception as exc:  # the session broke under the call: say so, and reconnect
            self._session_lost(client)
            raise self.unavailable(
                f"{self.spec.name} failed during {name}: {type(exc).__name__}: {exc}"
            ) from exc
        text = "\n".join(block.text for block in result.content if getattr(block, "text", None))
        if result.is_error:
            raise ToolCallFailed(f"{self.spec.name}.{name}: {text}")
        return ToolOutcome(text=text, structured=result.structured_content)

    async def _ask(self, what: str, request: Callable[[Any], Awaitable[T]], answers: bool = False) -> T:
        """`request` on the session within the call timeout. Any failure means a broken session,
        reported and replaced (as for a call), except, with `answers`, the server's own error answer
        (an unknown URI), which is a `ToolCallFailed`."""
        client = await self._connected_client()
        try:
            with anyio.fail_after(self.call_timeout):
                return await request(client)
        except MCPError as exc:
            if not answers:
                self._session_lost(client)
                raise self.unavailable(f"{self.spec.name} failed to {what}: {exc}") from exc
            raise ToolCallFailed(f"{self.spec.name} could not {what}: {exc}") from exc
        except Exception as exc:
            self._session_lost(client)
            raise self.unavailable(f"{self.spec.name} failed to {what}: {exc}") from exc

    async def list_tools(self) -> list[RemoteTool]:
        """The server's tools with their input schemas and hints."""
        tools = await self._ask("list its tools", lambda client: client.list_tools())
        return [
            RemoteTool(
                server=self.spec.name,
                name=tool.name,
                description=tool.description or "",
                input_schema=dict(tool.input_schema or {}),
                read_only=bool(tool.annotations and tool.annotations.read_only_hint),
                destructive=bool(tool.annotations and tool.annotations.destructive_hint),
                idempotent=bool(tool.annotations and tool.annotations.idempotent_hint),
            )
            for tool in tools
        ]

    async def read_resource(self, uri: str) -> str:
        """The text of resource `uri`; raises ServerUnavailable, or ToolCallFailed when the server
        answers with an error (an unknown URI)."""
        contents = await self._ask(f"read {uri}", lambda client: client.read_resource(uri), answers=True)
        return "".join(getattr(content, "text", "") or "" for content in contents)

    async def list_resource_templates(self) -> dict[str, str]:
        """The server's resource templates, {name: uriTemplate}; raises ServerUnavailable."""
        templates = await self._ask(
            "list its resource templates", lambda client: client.list_resource_templates()
        )
        return {template.name: template.uri_template for template in templates}

    async def watch(self, uri: str, wake: Callable[[], None]) -> None:
        """Call `wake()` whenever the resource `uri` changes, and once after every (re)subscription,
        since updates sent while unsubscribed are lost: a wake-up means "look again", never "this
        changed". Runs until cancelled, across reconnects."""
        while True:
            client = await self._wait_connected()
            try:
                async with listen(client.session, resource_subscriptions=[uri]) as subscription:
                    wake()
                    async for _ in subscription:
                        wake()
            except Exception as exc:  # a lost stream is re-opened, on the next session if need be
                logger.info("subscription to %s on %s ended: %s", uri, self.spec.name, exc)
            await anyio.sleep(0.5)

    async def _wait_connected(self) -> Client:
        while self._client is None:
            await self._ready.wait()
        return self._client

    async def _connected_client(self) -> Client:
        if self._client is None:
            with anyio.move_on_after(self.connect_timeout):
                await self._ready.wait()
        if self._client is None:
            raise self.unavailable(f"{self.spec.name} is not connected ({self.last_error or 'connecting'})")
        return self._client
