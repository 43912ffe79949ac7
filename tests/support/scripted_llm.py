"""A scripted OpenAI-compatible chat-completions server for tests: real HTTP, deterministic answers.

Each request to `/v1/chat/completions` takes the next `Step` of the script: a reply (text and/or tool
calls), an HTTP error status, a delay, or a raw body. Requests are recorded so tests can check what the
model was sent. The server runs under uvicorn in a thread on a free loopback port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
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


@dataclass
class ScriptedLLM:
    """The script, and the requests received so far."""

    steps: deque[Step] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def add(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if not self.steps:
            return JSONResponse({"error": {"message": "the script has no more steps"}}, status_code=500)
        step = self.steps.popleft()
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
def scripted_llm_server(*steps: Step) -> Iterator[ScriptedLLM]:
    """Serve a `ScriptedLLM` on 127.0.0.1 for the duration of the block; `.base_url` ends in /v1."""
    script = ScriptedLLM(steps=deque(steps))
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
