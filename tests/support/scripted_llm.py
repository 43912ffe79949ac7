"""A scripted OpenAI-compatible chat-completions server for tests: real HTTP, deterministic answers.

Each request to `/v1/chat/completions` takes the next `Step` of the script: a reply (text and/or tool
calls), an HTTP error status, a delay, or a raw body. When the script runs out, an optional `responder`
(a function of the request body, see `Responder`) picks the step instead, so a long-running test can
answer whatever Pepper asks by rule. Requests are recorded so tests can check what the model was sent.
The server runs under uvicorn in a thread on a free loopback port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.processes import free_port


@dataclass
class Step:
    """One scripted answer. `tool_calls` holds (name, raw JSON arguments) pairs."""

    content: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    raw_body: str | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 5


Responder = Callable[[dict[str, Any]], Step]
"""Answers a chat-completions request body (messages, tools) once the scripted steps are used up."""


@dataclass
class ScriptedLLM:
    """The script, and the requests received so far."""

    steps: deque[Step] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    responder: Responder | None = None
    models: list[str] | None = None  # served at /v1/models when set, as most endpoints do

    def add(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def app(self) -> Starlette:
        routes = [Route("/v1/chat/completions", self._complete, methods=["POST"])]
        if self.models is not None:
            routes.append(Route("/v1/models", self._models, methods=["GET"]))
        return Starlette(routes=routes)

    async def _models(self, request: Request) -> Response:
        listed = [
            {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}
            for name in self.models or []
        ]
        return JSONResponse({"object": "list", "data": listed})

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.steps:
            step = self.steps.popleft()
        elif self.responder is not None:
            step = self.responder(body)
        else:
            return JSONResponse({"error": {"message": "the script has no more steps"}}, status_code=500)
        if step.delay:
            await anyio.sleep(step.delay)
        if step.status != 200:
            return JSONResponse({"error": {"message": f"scripted {step.status}"}}, status_code=step.status)
        if step.raw_body is not None:
            return Response(step.raw_body, media_type="application/json")
        return JSONResponse(completion_body(step, body.get("model", "scripted")))


def completion_body(step: Step, model: str) -> dict[str, Any]:
    """A chat-completions response body for `step`."""
    message: dict[str, Any] = {"role": "assistant", "content": step.content}
    if step.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
            for i, (name, arguments) in enumerate(step.tool_calls)
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if step.tool_calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": step.prompt_tokens,
            "completion_tokens": step.completion_tokens,
            "total_tokens": step.prompt_tokens + step.completion_tokens,
        },
    }


@contextmanager
def scripted_llm_server(
    *steps: Step, responder: Responder | None = None, models: list[str] | None = None
) -> Iterator[ScriptedLLM]:
    """Serve a `ScriptedLLM` on 127.0.0.1 for the duration of the block; `.base_url` ends in /v1."""
    script = ScriptedLLM(steps=deque(steps), responder=responder, models=models)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(script.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scripted LLM server did not start")
        time.sleep(0.01)
    script.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield script
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def tool_arguments(**kwargs: Any) -> str:
    return json.dumps(kwargs)


def offered_tools(request: dict[str, Any]) -> set[str]:
    """The names of the tools a request offers the model."""
    return {tool["function"]["name"] for tool in request.get("tools") or []}


def last_message(request: dict[str, Any]) -> dict[str, Any]:
    """The request's last message (role, content, ...); an empty dict when there is none."""
    messages = request.get("messages") or []
    return messages[-1] if messages else {}
