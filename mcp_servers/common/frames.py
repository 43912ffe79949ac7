"""Checking one raw JSON-RPC frame before the MCP SDK sees it, so that a malformed one is answered.

The SDK's stdio transport drops a frame it cannot parse (a debug log line, no reply: the client waits
for ever) and its HTTP transport answers a frame that is valid JSON but not JSON-RPC with -32602 and
a dump of pydantic's errors. `frame_error` gives the JSON-RPC 2.0 answer instead: -32700 (Parse
error) for bytes that are not UTF-8 or not JSON (including JSON nested deeper than the parser's limit
of 200 levels, and an escaped lone surrogate such as "\\ud800", which no UTF-8 text can carry), and
-32600 (Invalid Request) for a frame that is too large, or JSON that is not one JSON-RPC message (a
number, a batch array, an object without `method`...). The id is echoed when it can be read from the
frame, else null, as JSON-RPC 2.0 asks. stdio_pipes.py writes the answer on stdout; `FrameGuard`
answers it with HTTP 400 (413 for a body that is too large).
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from mcp_types import jsonrpc_message_adapter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .host_guard import send_json

__all__ = [
    "INVALID_REQUEST",
    "MAX_HTTP_BODY_BYTES",
    "MAX_STDIO_FRAME_BYTES",
    "PARSE_ERROR",
    "FrameGuard",
    "error_reply",
    "frame_error",
    "oversized_reply",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
# The longest line the stdio transport reads; a longer one is skipped and answered with -32600.
MAX_STDIO_FRAME_BYTES = 32 * 1024 * 1024
# The SDK's own limit on a streamable-HTTP request body (it answers 413 above it).
MAX_HTTP_BODY_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE


def error_reply(code: int, message: str, request_id: str | int | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def oversized_reply(limit: int) -> dict[str, Any]:
    return error_reply(
        INVALID_REQUEST,
        f"Invalid Request: the frame is larger than {limit} bytes, this server's limit; send less at once",
    )


def frame_error(frame: bytes) -> dict[str, Any] | None:
    """The JSON-RPC error answering `frame`, or None when the SDK can take it as it is."""
    try:
        jsonrpc_message_adapter.validate_json(frame, by_name=False)
        return None
    except pydantic_core.ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] != "json_invalid":
            return _invalid_request(pydantic_core.from_json(frame))
        reason = str(first.get("ctx", {}).get("error", first["msg"]))
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error_reply(
            PARSE_ERROR, f"Parse error: the frame is not UTF-8 (byte {exc.start}): send UTF-8 JSON"
        )
    try:
        # Python's parser accepts what the SDK's refuses only for lone surrogates: then the id is known.
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return error_reply(PARSE_ERROR, f"Parse error: {reason}")
    request_id = _request_id(parsed)
    return error_reply(
        INVALID_REQUEST,
        f"Invalid Request: {reason}: JSON that MCP cannot carry (a lone surrogate escape such as \\ud800, "
        "or NaN/Infinity)",
        request_id,
    )


def _invalid_request(parsed: object) -> dict[str, Any]:
    if isinstance(parsed, list):
        reason = "batches are not part of MCP: send one JSON-RPC message per frame"
    elif not isinstance(parsed, dict):
        reason = f"a JSON-RPC message is an object, not {_JSON_KINDS.get(type(parsed), 'this')}"
    else:
        reason = "not a JSON-RPC 2.0 request, notification or response (check jsonrpc, id, method, params)"
    return error_reply(INVALID_REQUEST, f"Invalid Request: {reason}", _request_id(parsed))


_JSON_KINDS = {str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "null"}


def _request_id(parsed: object) -> str | int | None:
    if isinstance(parsed, dict):
        found = parsed.get("id")
        if isinstance(found, str | int) and not isinstance(found, bool):
            return found
    return None


class FrameGuard:
    """ASGI middleware: a POST to the MCP endpoint whose body `frame_error` refuses gets HTTP 400 with
    that JSON-RPC error (413 above the body limit); any other body reaches the SDK unchanged."""

    def __init__(self, app: ASGIApp, path: str, limit: int = MAX_HTTP_BODY_BYTES) -> None:
        self._app = app
        self._paths = {path, path.rstrip("/") + "/"}
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        body = await self._read_body(receive)
        if body is None:
            await send_json(send, 413, oversized_reply(self._limit))
            return
        if (error := frame_error(body)) is not None:
            await send_json(send, 400, error)
            return
        await self._app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields `body` once, then defers to the connection (for disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
