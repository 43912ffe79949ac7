"""Running a Pepper MCP server over stdio or streamable HTTP, secure by default.

Every server's `__main__` parses the same flags (`--transport stdio|http`, `--host`, `--port`) with
`add_transport_arguments` and hands them to `serve`. Over HTTP the server binds to 127.0.0.1 unless
told otherwise, FastMCP checks Host and Origin headers (DNS-rebinding protection), and a bearer
token is required whenever the bind address is not loopback. The token comes from the environment,
never from the command line, so that it does not show in process listings.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging
import sys
from collections.abc import Sequence
from typing import Literal

import anyio
from fastmcp import FastMCP
from pydantic import BaseModel, Field, SecretStr
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .orphan_guard import die_with_parent
from .stdio_pipes import serve_stdio

__all__ = [
    "BearerTokenMiddleware",
    "TransportOptions",
    "add_transport_arguments",
    "is_loopback",
    "log_to_stderr",
    "run_server",
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
                await _send_unauthorized(send)
                return
        await self._app(scope, receive, send)


async def _send_unauthorized(send: Send) -> None:
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


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_transport_arguments(parser: argparse.ArgumentParser, default_port: int) -> None:
    """The transport flags every Pepper server accepts."""
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"HTTP port (default {default_port})")


def transport_options(arguments: argparse.Namespace, token: SecretStr | None) -> TransportOptions:
    """The options of `add_transport_arguments`' flags, with the server's token from its settings."""
    return TransportOptions(
        transport=arguments.transport, host=arguments.host, port=arguments.port, token=token
    )


def log_to_stderr(level: str = "INFO") -> None:
    """Logs go to stderr: on the stdio transport, stdout carries the protocol."""
    logging.basicConfig(
        stream=sys.stderr, level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )


def run_server(server: FastMCP, options: TransportOptions) -> None:
    """Serve until the host goes away or Ctrl-C; a console script's last step."""
    try:
        anyio.run(serve, server, options)
    except KeyboardInterrupt:
        pass


def http_middleware(options: TransportOptions, exempt_paths: Sequence[str] = ()) -> list[Middleware]:
    """The ASGI middleware that guards the HTTP transport; fails fast on an unguarded public bind.

    `exempt_paths` are routes that check a credential of their own (a webhook that cannot send the
    bearer token, such as Gmail's Pub/Sub push): the bearer check skips exactly those paths."""
    if options.token is None:
        if not is_loopback(options.host):
            raise SystemExit(
                f"refusing to serve MCP over HTTP on {options.host} without a token: "
                "set the server's *_TOKEN environment variable, or bind to 127.0.0.1"
            )
        return []
    return [
        Middleware(BearerTokenMiddleware, token=options.token.get_secret_value(), exempt_paths=exempt_paths)
    ]


async def serve(
    server: FastMCP,
    options: TransportOptions,
    extra_allowed_hosts: Sequence[str] = (),
    token_exempt_paths: Sequence[str] = (),
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
    allowed_hosts = [options.host, f"{options.host}:{options.port}", *extra_allowed_hosts]
    await server.run_http_async(
        show_banner=False,
        transport="http",
        host=options.host,
        port=options.port,
        path=options.path,
        middleware=middleware,
        host_origin_protection=True,
        allowed_hosts=allowed_hosts,
        uvicorn_config={"log_level": "warning"},
    )
