"""Calling a server's tools with fuzzed arguments and judging each answer, for the test and the bench.

A `ToolFuzzer` holds one server (a `Wire`), lists its tools, runs the target's seed calls and keeps the
ids that results name as hints for later arguments (so a fuzzed `mark_read` can hit a real message).
`call` sends one `tools/call` under a deadline and sorts the answer into an `Outcome` kind: a result,
a tool error (the server refused in words), invalid arguments (the schema refused), a JSON-RPC error,
an HTTP refusal (a 4xx without JSON-RPC, such as 413 for a body over the transport's limit),
an internal error (an exception that escaped a tool: FastMCP's "Error calling tool 'x': <exception>",
or a traceback in any message), a timeout, or a lost connection. `alive` calls the target's read
tool under the same deadline.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio

from .targets import Call, Target
from .wire import Wire

__all__ = ["BAD_KINDS", "Outcome", "ToolFuzzer"]

RESULT, TOOL_ERROR, INVALID, RPC_ERROR = "result", "tool error", "invalid arguments", "JSON-RPC error"
HTTP_REFUSAL = "HTTP refusal"
INTERNAL, TIMEOUT, LOST = "internal error", "timeout", "connection lost"
BAD_KINDS = frozenset({INTERNAL, TIMEOUT, LOST})

_ESCAPED = re.compile(r"^Error calling tool '[^']*'(: |$)")
_LEAKS = re.compile(r"Traceback \(most recent call last\)|File \"/|site-packages|\.py\", line \d+")
_INVALID = re.compile(
    r"^(Input validation error|Invalid arguments|\d+ validation errors? for)", re.IGNORECASE
)
_HARVESTED = {
    "id": ("id", "ids", "event_id", "reminder_id"),
    "draft_id": ("draft_id",),
    "thread_id": ("thread_id",),
    "namespace": ("namespace",),
}
_POOL = 20


@dataclass(frozen=True)
class Outcome:
    tool: str
    arguments: Any
    kind: str
    message: str
    seconds: float

    def describe(self, width: int = 300) -> str:
        shown = repr(self.arguments)
        shown = shown if len(shown) <= width else f"{shown[:width]}... ({len(shown)} chars)"
        return f"{self.tool}({shown}) -> {self.kind} after {self.seconds:.2f} s: {self.message[:width]}"


@dataclass
class ToolFuzzer:
    wire: Wire
    target: Target
    deadline: float = 10.0
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    hints: dict[str, list[Any]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0

    async def start(self) -> None:
        """List the tools and run the seed calls, which must succeed."""
        with anyio.fail_after(60):
            listed = await self.wire.request("tools/list", {})
        self.tools = {tool["name"]: tool["inputSchema"] for tool in listed["result"]["tools"]}
        for seed in self.target.seeds:
            outcome = await self.call(seed.tool, seed.arguments)
            assert outcome.kind == RESULT, f"seed call failed: {outcome.describe()}"
        self.kinds.clear()

    async def call(self, tool: str, arguments: Any) -> Outcome:
        started = time.perf_counter()
        with anyio.move_on_after(self.deadline):
            try:
                reply = await self.wire.request("tools/call", {"name": tool, "arguments": arguments})
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                return self._record(Outcome(tool, arguments, LOST, repr(exc), time.perf_counter() - started))
            seconds = time.perf_counter() - started
            kind, message = self._judge(reply)
            return self._record(Outcome(tool, arguments, kind, message, seconds))
        return self._record(
            Outcome(tool, arguments, TIMEOUT, f"no answer within {self.deadline} s", self.deadline)
        )

    async def alive(self) -> Outcome:
        """The target's read tool, called under the deadline: `kind` is "result" when the server serves."""
        probe: Call = self.target.probe
        outcome = await self.call(probe.tool, probe.arguments)
        self.kinds[outcome.kind] -= 1  # a probe is not one of the fuzzed calls
        return outcome

    def _record(self, outcome: Outcome) -> Outcome:
        self.kinds[outcome.kind] += 1
        self.slowest = max(self.slowest, outcome.seconds)
        return outcome

    def _judge(self, reply: dict[str, Any]) -> tuple[str, str]:
        if "error" in reply:
            message = str(reply["error"].get("message", ""))
            leaked = reply["error"].get("code") == -32603 or _LEAKS.search(message)
            return (INTERNAL if leaked else RPC_ERROR), f"{reply['error'].get('code')}: {message}"
        if "result" not in reply:
            refused = 400 <= reply.get("http_status", 0) < 500  # e.g. 413 for a body over the SDK's limit
            return (HTTP_REFUSAL if refused else LOST), f"no JSON-RPC answer: {reply}"
        result = reply["result"]
        text = " ".join(str(part.get("text", "")) for part in result.get("content", []))
        if not result.get("isError"):
            self._harvest(result.get("structuredContent"))
            return RESULT, text[:200]
        if _ESCAPED.search(text) or _LEAKS.search(text):
            return INTERNAL, text
        return (INVALID if _INVALID.search(text) else TOOL_ERROR), text

    def _harvest(self, value: Any) -> None:
        """Keep ids that a result names (bounded), as hints for the arguments of later calls."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key in _HARVESTED and isinstance(item, str) and len(item) < 200:
                    for name in _HARVESTED[key]:
                        pool = self.hints.setdefault(name, [])
                        if item not in pool and len(pool) < _POOL:
                            pool.append(item)
                else:
                    self._harvest(item)
        elif isinstance(value, list):
            for item in value[:50]:
                self._harvest(item)
