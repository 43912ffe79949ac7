"""Which Host and Origin headers an HTTP server of Pepper's answers: a defence against DNS rebinding
and against pages served by other local web servers.

A browser tricked by DNS rebinding sends `Host: evil.example:PORT` (and a matching Origin) to our
port; a page on another local port sends our Host but its own Origin. So every request must name an
allowed host (127.0.0.1, localhost, [::1], the bind address unless it is a wildcard such as 0.0.0.0,
and the names configured for a LAN deployment) and, when its Host carries a port, the port the server listens on;
otherwise 421 Misdirected Request. An Origin header, when present, must be exactly
`<the server's scheme>://<an allowed host>:<the listening port>`; otherwise 403. The listening port is
read from the connection itself (the ASGI `server` address), so it is right even with `--port 0`.
The same rules guard the web UI (web/security.py) and the MCP HTTP transports (transport.py).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator
from pydantic_settings import NoDecode
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "LOOPBACK_NAMES",
    "AllowedHosts",
    "HostAllowlist",
    "HostOriginGuard",
    "is_loopback",
    "needs_token",
    "send_json",
    "split_host",
]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalized(name: str) -> str:
    return name.strip().lower().removeprefix("[").removesuffix("]")


def _host_names(value: object) -> object:
    """`pepper.lan, 192.168.1.4` (an environment variable) or a list (a TOML file) → a tuple."""
    if isinstance(value, str):
        return tuple(name for name in (_normalized(part) for part in value.split(",")) if name)
    if isinstance(value, Iterable):
        return tuple(_normalized(str(name)) for name in value)
    return value


# A settings field: comma-separated in the environment, a list in a config file.
AllowedHosts = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_host_names)]


def split_host(value: str) -> tuple[str, int | None]:
    """`[::1]:8000` → (`::1`, 8000), `Localhost` → (`localhost`, None); ValueError if not a host."""
    if not value or any(character in value for character in "/@?#\\ "):
        raise ValueError(f"not a host: {value!r}")
    parts = urlsplit(f"//{value}")
    if not parts.hostname:
        raise ValueError(f"not a host: {value!r}")
    return parts.hostname.lower(), parts.port


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(_normalized(host)).is_loopback
    except ValueError:
        return False


def _is_specific(host: str) -> bool:
    """True unless `host` is a wildcard bind address (0.0.0.0, ::, empty)."""
    try:
        return not ipaddress.ip_address(_normalized(host)).is_unspecified
    except ValueError:
        return bool(_normalized(host))


def needs_token(bind_host: str, allowed_hosts: Iterable[str]) -> bool:
    """A bind beyond loopback, or any configured host name beyond the loopback ones, needs a token."""
    return not is_loopback(bind_host) or any(
        _normalized(name) not in LOOPBACK_NAMES for name in allowed_hosts
    )


class HostAllowlist:
    """The host names one server answers to, and the check of one request's Host and Origin."""

    def __init__(self, bind_host: str, configured: Iterable[str] = ()) -> None:
        names = {*LOOPBACK_NAMES, *(_normalized(name) for name in configured)}
        if _is_specific(bind_host):
            names.add(_normalized(bind_host))
        self.names = frozenset(names)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(421 or 403, the reason) when the request must be refused; None when it may pass."""
        headers = Headers(scope=scope)
        server = scope.get("server")
        port = server[1] if server else None
        host = headers.get("host", "")
        try:
            name, host_port = split_host(host)
        except ValueError:
            return 421, f"this server does not answer to the Host {host!r}"
        if name not in self.names or (host_port is not None and port is not None and host_port != port):
            return 421, f"this server does not answer to the Host {host!r}: {self.hint()}"
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin, scope.get("scheme", "http"), port):
            return 403, f"requests from the origin {origin!r} are not allowed: {self.hint()}"
        return None

    def _origin_allowed(self, origin: str, scheme: str, port: int | None) -> bool:
        try:
            parts = urlsplit(origin)
            origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return False
        return (
            parts.scheme == scheme
            and (parts.hostname or "") in self.names
            and origin_port == port
            and not (parts.path or parts.query or parts.fragment or parts.username)
        )

    def hint(self) -> str:
        return f"allowed hosts are {', '.join(sorted(self.names))} on this server's port"


class HostOriginGuard:
    """ASGI middleware answering 421/403 (a JSON body) to requests `HostAllowlist` refuses."""

    def __init__(self, app: ASGIApp, allowlist: HostAllowlist) -> None:
        self._app = app
        self._allowlist = allowlist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (refusal := self._allowlist.refusal(scope)) is not None:
            status, reason = refusal
            await send_json(send, status, {"error": reason})
            return
        await self._app(scope, receive, send)


async def send_json(
    send: Send, status: int, payload: object, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """A complete JSON response through a raw ASGI `send`."""
    body = json.dumps(payload).encode()
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})
