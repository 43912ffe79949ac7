"""Waiting out a server's outage instead of failing: the one place that decides what to retry.

Only `ServerUnavailable` that names its connection is waited out: a tool's own error, or a server
that is not configured at all, still fails at once. Every operation retried here is safe to repeat:
the context store's writes are upserts and acks, reads are reads, and notifications carry a dedupe
key. A call that timed out is made again only when its class says that is safe (timeouts.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from orchestrator.mcp_clients import ServerConnection, ServerUnavailable, ToolOutcome
from orchestrator.supervision.timeouts import Backoff, ToolClasses, retry_timeouts

__all__ = ["PatientConnection", "back_again", "find_unavailable", "supervised", "until_available"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_PAUSE = 0.1  # after a reconnect; the connection's own backoff spaces out the respawns


async def until_available(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """`await operation()`, again and again while it fails because its server is unavailable,
    each time once the server is back."""
    while True:
        try:
            return await operation()
        except ServerUnavailable as exc:
            if exc.connection is None:
                raise
            await _wait_for(exc.connection, what, exc)


async def _wait_for(connection: ServerConnection, what: str, exc: BaseException) -> None:
    logger.warning("%s waits for %s: %s", what, connection.spec.name, exc)
    await back_again(connection)
    logger.info("%s resumes: %s is back", what, connection.spec.name)


async def back_again(connection: ServerConnection) -> None:
    """Returns once `connection` is connected again (and a moment has passed, so that a server that
    keeps failing is retried at the pace of its respawns, never in a tight loop)."""
    await connection.wait_available()
    await anyio.sleep(RETRY_PAUSE)


class PatientConnection:
    """A `ServerConnection` whose tool calls wait out outages, and are made again after a timeout
    when that is safe (timeouts.py): for the loops, which must not stop while the context store
    restarts or is slow. Everything else is the connection's own."""

    def __init__(self, connection: ServerConnection, backoff: Backoff = Backoff()) -> None:
        self.connection = connection
        self.classes = ToolClasses(connection)
        self.backoff = backoff

    async def call_tool(
        self, name: str, arguments: dict[str, Any], deadline: float | None = None
    ) -> ToolOutcome:
        what = f"{self.connection.spec.name}.{name}"
        if self.classes.stale:
            await self.classes.read()
        return await until_available(
            lambda: retry_timeouts(
                lambda: self.connection.call_tool(name, arguments, deadline),
                lambda: self.classes.kind(name, arguments),
                what,
                self.backoff,
            ),
            what,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


def find_unavailable(error: BaseException) -> ServerUnavailable | None:
    """The `ServerUnavailable` that `error` is, was raised from (an error that translated it for a
    user, such as the conversation's `ActionError`), or, from a task group, holds alone; else None."""
    if isinstance(error, BaseExceptionGroup):
        matched, rest = error.split(lambda part: _unavailable_cause(part) is not None)
        if rest is None and matched is not None:
            return find_unavailable(matched.exceptions[0])
        return None
    return _unavailable_cause(error)


def _unavailable_cause(error: BaseException) -> ServerUnavailable | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ServerUnavailable):
            return current
        if isinstance(current, BaseExceptionGroup):
            return None  # judged part by part above
        seen.add(id(current))
        current = current.__cause__
    return None


async def supervised(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run `loop` until it returns; when it stops because a server is unavailable, start it again
    once the server is back (it resumes from its durable cursor). Other errors are bugs: they
    propagate."""
    while True:
        try:
            await loop()
            return
        except Exception as exc:
            unavailable = find_unavailable(exc)
            if unavailable is None or unavailable.connection is None:
                raise
            await _wait_for(unavailable.connection, name, unavailable)
