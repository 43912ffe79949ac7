"""Health of each ingest source (mail, calendar): when it last synced, whether it is late or failing,
how far behind it was after a stop, and one alert when it stops and one when it recovers.

A source is **ok** while it syncs on time; **late** (amber) once no sync succeeded for twice its
expected interval plus a minute; **failing** (red) once it has failed, or its server has been down,
for `alert_after` seconds (15 minutes unless configured). The time of the last success is kept in the
context store (`state.health/<source>`), so after Pepper was stopped for a week the first sync tells
how far behind it was and when it caught up. Alerts go through Pepper's own notifications, keyed by
source and outage, so a restart in the middle of an outage does not repeat them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import (
    ConnectionState,
    ServerConnection,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)

__all__ = ["HEALTH_NAMESPACE", "HealthBook", "SourceHealth", "SourceState"]

logger = logging.getLogger(__name__)
HEALTH_NAMESPACE = "state.health"
LATE_SLACK_SECONDS = 60.0
WATCH_SECONDS = 30.0
Announce = Callable[[str, str, str], Awaitable[None]]  # title, body, dedupe key


class SourceState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    LATE = "late"
    FAILING = "failing"


@dataclass
class SourceHealth:
    """What one source has done lately; `state()` judges it at a given time."""

    name: str
    interval: float
    alert_after: float
    connection: ServerConnection | None = None
    started: float = field(default_factory=time.time)
    last_success: float | None = None
    last_error: str | None = None
    failing_since: float | None = None
    changes: int = 0
    behind_seconds: float | None = None  # how long it had not synced when this run caught up
    caught_up_at: float | None = None
    previous_success: float | None = None  # from before this run (the context store's record)
    syncing_since: float | None = None  # a sync under way (a first sync of a big mailbox takes minutes)

    def succeeded(self, changes: int, now: float) -> None:
        if self.caught_up_at is None:
            since = self.previous_success if self.previous_success is not None else None
            self.behind_seconds = now - since if since is not None else None
            self.caught_up_at = now
        self.last_success, self.last_error, self.failing_since = now, None, None
        self.changes += changes

    def failed(self, error: str, now: float) -> None:
        self.last_error = error
        self.failing_since = self.failing_since or now

    def state(self, now: float) -> tuple[SourceState, str]:
        """The state and the reason, in words for the header and `status`."""
        down = self.connection is not None and self.connection.state is ConnectionState.DOWN
        reference = self.last_success or self.started
        quiet = now - reference
        trouble_since = self.failing_since or (
            self.connection.state_since if down and self.connection else None
        )
        if trouble_since is not None and now - trouble_since >= self.alert_after:
            why = (
                self.last_error or (self.connection.last_error if self.connection else None) or "server down"
            )
            return SourceState.FAILING, f"failing for {_span(now - trouble_since)}: {why}"
        if self.syncing_since is not None and not down and self.last_error is None:
            if self.last_success is None:
                return SourceState.STARTING, f"first sync running for {_span(now - self.syncing_since)}"
            return SourceState.OK, f"syncing for {_span(now - self.syncing_since)}"
        if self.last_success is None and not down and quiet < self.interval * 2 + LATE_SLACK_SECONDS:
            return SourceState.STARTING, "first sync running"
        if quiet >= self.interval * 2 + LATE_SLACK_SECONDS or down:
            why = f"; {self.last_error}" if self.last_error else ("; server down" if down else "")
            return SourceState.LATE, f"no sync for {_span(quiet)}{why}"
        return SourceState.OK, f"synced {_span(quiet)} ago"

    def snapshot(self, now: float) -> dict[str, Any]:
        state, reason = self.state(now)
        return {
            "name": self.name,
            "state": state.value,
            "reason": reason,
            "last_success": self.last_success,
            "changes": self.changes,
            "behind_seconds": self.behind_seconds,
            "caught_up_at": self.caught_up_at,
        }


class HealthBook:
    """Every source's health, its record in the context store, and the alert loop."""

    def __init__(self, items: ContextItems, clock: Callable[[], float] = time.time) -> None:
        self._items = items
        self._clock = clock
        self.sources: dict[str, SourceHealth] = {}
        self._alerted: dict[str, float] = {}  # source -> the outage start an alert was sent for

    def add(
        self, name: str, interval: float, alert_after: float, connection: ServerConnection | None = None
    ) -> SourceHealth:
        self.sources[name] = SourceHealth(name, interval, alert_after, connection, started=self._clock())
        return self.sources[name]

    def snapshot(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [source.snapshot(now) for source in self.sources.values()]

    async def restore(self) -> None:
        """Read each source's last success from before this run."""
        for source in self.sources.values():
            saved = await self._items.get(HEALTH_NAMESPACE, source.name)
            if saved is not None and isinstance(saved.data, dict):
                source.previous_success = saved.data.get("last_success")

    async def record(self, name: str, outcome: Callable[[], Awaitable[int]]) -> int:
        """Run one sync of `name` and record how it went (re-raising its failure for the caller)."""
        source = self.sources[name]
        source.syncing_since = self._clock()
        try:
            changes = await outcome()
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            source.failed(str(exc) or type(exc).__name__, self._clock())
            raise
        finally:
            source.syncing_since = None
        source.succeeded(changes, self._clock())
        await self._items.put(HEALTH_NAMESPACE, name, {"last_success": source.last_success})
        return changes

    async def watch(self, announce: Announce) -> None:
        """Every 30 s: one alert per outage when a source turns red, one when it is back."""
        while True:
            await self.check(announce)
            await anyio.sleep(WATCH_SECONDS)

    async def check(self, announce: Announce) -> None:
        now = self._clock()
        for source in self.sources.values():
            state, reason = source.state(now)
            outage = self._alerted.get(source.name)
            if state is SourceState.FAILING and outage is None:
                began = source.failing_since or (source.connection.state_since if source.connection else now)
                self._alerted[source.name] = began
                await announce(
                    f"Pepper stopped receiving {source.name}",
                    f"{reason}. {_advice(source.name)}",
                    f"health:{source.name}:down:{int(began)}",
                )
            elif state is SourceState.OK and outage is not None:
                del self._alerted[source.name]
                await announce(
                    f"Pepper receives {source.name} again",
                    f"{source.name} is back after {_span(now - outage)}; what arrived meanwhile is being caught up.",
                    f"health:{source.name}:up:{int(outage)}",
                )


def _advice(name: str) -> str:
    if name == "mail":
        return "Run `pepper-orchestrator doctor` to see why (a password or token that expired, the server unreachable)."
    return "Run `pepper-orchestrator doctor` to see why."


def _span(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
