"""What to do when a tool call times out, decided by what the call does.

A call that timed out may have run, or not; only the kind of call says whether running it again is
safe. Reads (`readOnlyHint`), idempotent calls (`idempotentHint`) and writes that carry their own
idempotency key (`KEYED`: the context store's upserts by id, the notify server's sends with a dedupe
key) are made again, after a pause that doubles each time (0.5 s, 1 s, ...), up to `Backoff.attempts`
attempts in all; then the timeout is reported, saying that trying again later is safe. Any other
write is never repeated blindly: `OutcomeUnknown` says that it may or may not have taken effect and
to check before trying again. A tool's class comes from its server's annotations, read once per
session (`ToolClasses`); a tool whose annotations cannot be read counts as a write.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import anyio

from orchestrator.accounts.names import server_kind
from orchestrator.mcp_clients import RemoteTool, ServerConnection, ToolCallTimeout

__all__ = ["KEYED", "Backoff", "CallKind", "OutcomeUnknown", "ToolClasses", "classify", "retry_timeouts"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
HINTS_DEADLINE = 5.0  # reading a server's tool annotations, once per session


class CallKind(StrEnum):
    READ = "read"
    REPEATABLE = "repeatable"  # idempotent, or keyed: a second run changes nothing more
    WRITE = "write"


def _every(arguments: dict[str, Any], field: str, key: str) -> bool:
    items = arguments.get(field)
    return isinstance(items, list) and bool(items) and all(isinstance(i, dict) and i.get(key) for i in items)


# Writes that are idempotent when they carry their own key, by (server, tool).
KEYED: dict[tuple[str, str], Callable[[dict[str, Any]], bool]] = {
    ("context", "store"): lambda arguments: bool(arguments.get("id")),
    ("context", "store_many"): lambda arguments: _every(arguments, "items", "id"),
    ("notify", "send_notification"): lambda arguments: bool(arguments.get("dedupe_key")),
    ("notify", "send_notifications"): lambda arguments: _every(arguments, "notifications", "dedupe_key"),
}


def classify(tool: RemoteTool | None, server: str, name: str, arguments: dict[str, Any]) -> CallKind:
    """The class of a call of `name` on `server` with `arguments` (`tool`: its annotations, if known)."""
    if tool is not None and tool.read_only:
        return CallKind.READ
    if tool is not None and tool.idempotent:
        return CallKind.REPEATABLE
    keyed = KEYED.get((server_kind(server), name))
    return CallKind.REPEATABLE if keyed is not None and keyed(arguments) else CallKind.WRITE


class OutcomeUnknown(ToolCallTimeout):
    """A write timed out: it may have taken effect. It was not repeated."""


@dataclass(frozen=True)
class Backoff:
    """How often, and how far apart, a repeatable call that timed out is made again."""

    attempts: int = 3
    first_pause: float = 0.5
    max_pause: float = 8.0

    def pauses(self) -> Iterator[float]:
        """The pauses before the 2nd, 3rd, ... attempt."""
        for retry in range(self.attempts - 1):
            yield min(self.max_pause, self.first_pause * 2**retry)


async def retry_timeouts(
    call: Callable[[], Awaitable[T]],
    kind: Callable[[], Awaitable[CallKind]],
    what: str,
    backoff: Backoff = Backoff(),
) -> T:
    """`await call()`; when it times out, make it again if `kind()` says that is safe, else raise
    `OutcomeUnknown`. `kind` is asked only after a timeout."""
    pauses = backoff.pauses()
    while True:
        try:
            return await call()
        except OutcomeUnknown:
            raise
        except ToolCallTimeout as exc:
            if await kind() is CallKind.WRITE:
                raise OutcomeUnknown(
                    f"{exc}: it may or may not have taken effect, and it was not repeated (a write "
                    "repeated blindly could happen twice): check its result before trying again"
                ) from exc
            pause = next(pauses, None)
            if pause is None:
                raise ToolCallTimeout(
                    f"{exc} ({backoff.attempts} attempts): gave up for now; it is safe to try again later"
                ) from exc
            logger.warning("%s timed out; trying again in %g s", what, pause)
            await anyio.sleep(pause)


class ToolClasses:
    """The annotations of one server's tools, read once per session (and again after a reconnect)."""

    def __init__(self, connection: ServerConnection, deadline: float = HINTS_DEADLINE) -> None:
        self.connection = connection
        self.deadline = deadline
        self._tools: dict[str, RemoteTool] | None = None
        self._read_in_session = -1

    @property
    def stale(self) -> bool:
        """Not read yet in this session (read them while the server answers, before any timeout)."""
        return self._tools is None or self._read_in_session != self.connection.reconnects

    async def kind(self, name: str, arguments: dict[str, Any]) -> CallKind:
        return classify(await self.tool(name), self.connection.spec.name, name, arguments)

    async def tool(self, name: str) -> RemoteTool | None:
        if self.stale:
            await self.read()
        return (self._tools or {}).get(name)

    async def read(self) -> None:
        """Read the annotations now; when that fails, they stay unknown (every call a write)."""
        with anyio.move_on_after(self.deadline):
            try:
                tools = await self.connection.list_tools()
            except Exception as exc:  # unknown annotations: every call counts as a write
                logger.info("cannot read the tools of %s: %s", self.connection.spec.name, exc)
                return
            self._tools = {tool.name: tool for tool in tools}
            self._read_in_session = self.connection.reconnects
