"""A local stand-in for Composio's tool-execution endpoint, for the gmail and calendar adapters' tests.

It speaks what the adapters call: `POST /api/v3.1/tools/execute/{slug}` with the project key in
`x-api-key` and `{"arguments", "user_id", ...}`, answering `{"data", "successful", "error",
"log_id"}` the way Composio does, with the tools themselves played by in-memory fakes
(`tests.support.composio_fakes`). Tests can make the next requests fail with a status code, or stop
the server and start it again on the same port (a dropped connection, then recovery). Starlette
under uvicorn in a thread, on a socket bound before the thread starts, so it accepts at once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["API_KEY", "ComposioServer", "ToolFailure", "composio_server"]

API_KEY = "test-composio-key"
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ToolFailure(Exception):
    """Raised by a fake tool: Composio answers 200 with `successful: false` and this message."""


class ComposioServer:
    """The fake endpoint: a registry of tool handlers, a log of calls, and injectable failures."""

    def __init__(self) -> None:
        self.tools: dict[str, Handler] = {}
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.failures: list[int] = []
        self.lock = threading.RLock()  # tests take it around several reads
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register(self, handlers: dict[str, Handler]) -> None:
        self.tools.update(handlers)

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these HTTP statuses, one each, before serving again."""
        with self.lock:
            self.failures.extend(statuses)

    def slugs_called(self) -> list[str]:
        with self.lock:
            return [slug for slug, _, _ in self.calls]

    async def _execute(self, request: Request) -> JSONResponse:
        slug = request.path_params["slug"]
        if request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"error": {"message": "Invalid API key", "status": 401}}, status_code=401)
        body = await request.json()
        with self.lock:
            if self.failures:
                status = self.failures.pop(0)
                return JSONResponse({"error": {"message": f"injected failure {status}"}}, status_code=status)
            self.calls.append((slug, body.get("arguments") or {}, body))
            handler = self.tools.get(slug)
            if handler is None:
                return JSONResponse({"error": {"message": f"Tool {slug} not found"}}, status_code=404)
            try:
                data, error = handler(body.get("arguments") or {}), None
            except ToolFailure as exc:
                data, error = {}, str(exc)
        return JSONResponse({"data": data, "successful": error is None, "error": error, "log_id": "log_1"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/v3.1/tools/execute/{slug}", self._execute, methods=["POST"])])

    def start(self) -> None:
        """Serve on `self.port` (a fresh one the first time); connections are accepted at once."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: clients get connection errors until `start()`."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None


@contextmanager
def composio_server(*handler_sets: dict[str, Handler]) -> Iterator[ComposioServer]:
    """A running fake Composio with the given tool handlers, stopped at the end of the block."""
    server = ComposioServer()
    for handlers in handler_sets:
        server.register(handlers)
    server.start()
    try:
        yield server
    finally:
        server.stop()
