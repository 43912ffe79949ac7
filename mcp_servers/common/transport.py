"""Running a Pepper MCP server over stdio or streamable HTTP, secure by default.

Every server's `__main__` parses the same flags (`--transport stdio|http`, `--host`, `--port`,
`--log-level`) with `add_transport_arguments` and hands them to `serve`. Over HTTP the server binds to
127.0.0.1 unless told otherwise; every request must name an allowed host and come from no other
origin than this server's own (host_guard.py: DNS-rebinding protection); a bearer token is required
whenever the bind address is not loopback or host names beyond loopback are allowed (a LAN
deployment). The token comes from the environment, never from the command line, so that it does not
show in process listings. A malformed JSON-RPC frame gets a JSON-RPC error on both transports
(frames.py), and a start-up error the user can fix ends the process with one line (startup.py).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Literal

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field, SecretStr
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .frames import FrameGuard
from .host_guard import AllowedHosts, HostAllowlist, HostOriginGuard, is_loopback, needs_token
from .memory import limit_arenas
from .orphan_guard import die_with_parent
from .startup import StartupError, bind_listener, reporting_startup_errors
from .stdio_pipes import serve_stdio
from .surface import PepperServer, http_app

__all__ = [
    "BearerTokenMiddleware",
    "TransportOptions",
    "add_transport_arguments",
    "check_options",
    "is_loopback",
    "log_to_stderr",
    "run_server",
    "send_unauthorized",
    "serve",
    "transport_options",
]

logger = logging.getLogger(__name__)


class TransportOptions(BaseModel):
    """How a server is reached: stdio, or streamable HTTP on a host and port."""

    transport: Literal["stdio", "http"] = Field(
        "stdio", description="stdio for a host that spawns the server"
    )
    host: str = Field("127.0.0.1", description="HTTP bind address; loopback unless a token is set")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port (0 picks a free one)")
    token: SecretStr | None = Field(None, description="Bearer token required on HTTP requests")
    allowed_hosts: AllowedHosts = Field(
        (), description="Host names besides 127.0.0.1, localhost and [::1] that HTTP requests may name"
    )
    path: str = Field("/mcp", description="HTTP path of the MCP endpoint")


class BearerTokenMiddleware:
    """Refuses HTTP requests without `Authorization: Bearer <token>`, in constant time."""

    def __init__(self, app: ASGIApp, token: str, exempt_paths: Sequence[str] = ()) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()
        self._exempt = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self._exempt:
            supplied = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(supplied, self._expected):
                await send_unauthorized(send)
                return
        await self._app(scope, receive, send)


async def send_unauthorized(send: Send) -> None:
    body = b'{"error": "missing or wrong bearer token"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b"Bearer"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def add_transport_arguments(parser: argparse.ArgumentParser, default_port: int) -> None:
    """The transport flags every Pepper server accepts."""
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"HTTP port (default {default_port})")
    parser.add_argument(
        "--log-level", default="INFO", help="stderr log level (default INFO; DEBUG adds start-up tracebacks)"
    )


def transport_options(
    arguments: argparse.Namespace, token: SecretStr | None, allowed_hosts: Sequence[str] = ()
) -> TransportOptions:
    """The options of `add_transport_arguments`' flags, with the server's token and allowed host
    names from its settings (`PEPPER_<SERVER>_TOKEN`, `PEPPER_<SERVER>_ALLOWED_HOSTS`)."""
    return TransportOptions(
        transport=arguments.transport,
        host=arguments.host,
        port=arguments.port,
        token=token,
        allowed_hosts=tuple(allowed_hosts),
    )


def log_to_stderr(level: str = "INFO") -> None:
    """Logs go to stderr: on the stdio transport, stdout carries the protocol."""
    logging.basicConfig(
        stream=sys.stderr, level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )


def run_server(server: PepperServer, options: TransportOptions) -> None:
    """Serve until the host goes away or Ctrl-C; a console script's last step. A start-up error the
    user can fix (port in use, missing token, bad --host) ends it with one line and status 2."""
    limit_arenas()
    with reporting_startup_errors(server.name):
        anyio.run(serve, server, options)


def check_options(options: TransportOptions) -> None:
    """Fail fast, before any other start-up work, on a bind or host names that need a missing token."""
    if (
        options.transport == "http"
        and options.token is None
        and needs_token(options.host, options.allowed_hosts)
    ):
        hosts = ", ".join(options.allowed_hosts)
        raise StartupError(
            f"refusing to serve MCP over HTTP on {options.host}"
            + (f" for the hosts {hosts}" if hosts else "")
            + " without a token: set the server's *_TOKEN environment variable, or bind to 127.0.0.1"
            + (" and allow no other host names" if hosts else "")
        )


def http_middleware(options: TransportOptions, exempt_paths: Sequence[str] = ()) -> list[Middleware]:
    """The ASGI middleware that guards the HTTP transport, outermost first: Host and Origin
    (host_guard.py), the bearer token when one is set, malformed frames (frames.py). Fails fast on
    a bind or a host name beyond loopback without a token.

    `exempt_paths` are routes that check a credential of their own (a webhook that cannot send the
    bearer token, such as Gmail's Pub/Sub push): the bearer check skips exactly those paths."""
    check_options(options.model_copy(update={"transport": "http"}))
    allowlist = HostAllowlist(options.host, options.allowed_hosts)
    middleware = [Middleware(HostOriginGuard, allowlist=allowlist)]
    if options.token is not None:
        token = options.token.get_secret_value()
        middleware.append(Middleware(BearerTokenMiddleware, token=token, exempt_paths=exempt_paths))
    return [*middleware, Middleware(FrameGuard, path=options.path)]


async def serve(
    server: PepperServer, options: TransportOptions, token_exempt_paths: Sequence[str] = ()
) -> None:
    """Run `server` on the chosen transport until cancelled (see `http_middleware` for the paths)."""
    if options.transport == "stdio":
        die_with_parent()  # a stdio server has no use without the host that spawned it
        try:
            await serve_stdio(server)
        except* (BrokenPipeError, ConnectionResetError):
            # The host closed our stdout on its way out: a normal end for a stdio server.
            logger.info("the MCP host closed the stdio pipes; stopping")
        return
    middleware = http_middleware(options, token_exempt_paths)
    with bind_listener(options.host, options.port) as listener:
        if isinstance(server, MCPServer):
            await _serve_sdk_http(server, options, middleware, listener)
            return
        await server.run_http_async(
            show_banner=False,
            transport="http",
            host=options.host,
            port=listener.getsockname()[1],
            path=options.path,
            middleware=middleware,
            host_origin_protection=False,  # http_middleware's HostOriginGuard is stricter
            uvicorn_config={"log_level": "warning"},
            sockets=[listener],
        )


async def _serve_sdk_http(
    server: MCPServer, options: TransportOptions, middleware: list[Middleware], listener: socket.socket
) -> None:
    """An SDK server's streamable-HTTP app behind `middleware`, served as FastMCP serves its own."""
    import uvicorn

    app = http_app(server, options.path)
    for layer in reversed(middleware):  # add_middleware puts each outside the ones added before
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    logger.info("Starting MCP server %r on http://%s:%d%s", server.name, options.host,
                listener.getsockname()[1], options.path)  # fmt: skip
    await uvicorn.Server(config).serve(sockets=[listener])
