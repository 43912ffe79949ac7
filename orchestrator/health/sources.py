"""Health of each ingest source (mail, calendar): when it last synced, whether it is late or failing,
how far behind it was after a stop, and one alert when it stops and one when it recovers.

A source is **ok** while it syncs on time; **late** (amber) once no sync succeeded for twice its
expected interval plus a minute; **failing** (red) once it has failed, or its server has been down,
for `alert_after` seconds (15 minutes unless configured). The time of the last success is kept in the
context store (`state.health/<source>`), so after Pepper was stopped for a week the first sync tells
how far behind it was and when it caught up (saved at most every `SAVE_SECONDS`, a first sync
syncing many times a minute, and when Pepper stops: `flush`). Alerts go through Pepper's own notifications, keyed by
source and outage, so a restart in the middle of an outage does not repeat them. A source whose server
reports its account's health (`orchestrator.health.account`: the gmail server's `get_account_status`,
read after every sync) is also red at once when the credentials are refused or the push watch lapsed,
and amber when the watch or the refresh token ends within a day; the report is shown in words.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.health.account import Finding, Severity, describe, judge, span
from orchestrator.mcp_clients import (
    ConnectionState,
    ServerConnection,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)

__all__ = ["HEALTH_NAMESPACE", "HealthBook", "SourceHealth", "SourceState", "Watched"]

logger = logging.getLogger(__name__)
HEALTH_NAMESPACE = "state.health"
LATE_SLACK_SECONDS = 60.0
WATCH_SECONDS = 30.0
SAVE_SECONDS = 300.0
Announce = Callable[[str, str, str], Awaitable[None]]  # title, body, dedupe key


class SourceState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    LATE = "late"
    FAILING = "failing"


class Watched(Protocol):
    """What the health book judges and alerts on: a source, or the disk (`health.disk`)."""

    name: str

    def state(self, now: float) -> tuple[SourceState, str]: ...
    def snapshot(self, now: float) -> dict[str, Any]: ...
    def fix(self) -> str: ...
    def outage_start(self, now: float) -> tuple[float, float]: ...
    def alert_texts(self) -> tuple[str, str, str]: ...


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
    status_tool: str | None = None  # the server's account report (`orchestrator.health.account`)
    account: dict[str, Any] | None = None  # its last answer
    position: Callable[[], tuple[str | None, float | None]] | None = (
        None  # the ingest's cursor, newest stored
    )

    def findings(self) -> list[Finding]:
        """What the account's own report says is wrong (nothing while its server is down)."""
        down = self.connection is not None and self.connection.state is ConnectionState.DOWN
        return judge(self.account) if self.account and not down else []

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
        findings = self.findings()
        if findings and findings[0].severity is Severity.RED:
            return SourceState.FAILING, findings[0].reason
        state, reason = self._sync_state(now)
        if state is SourceState.OK and findings:
            return SourceState.LATE, findings[0].reason
        return state, reason

    def _sync_state(self, now: float) -> tuple[SourceState, str]:
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
            return SourceState.FAILING, f"failing for {span(now - trouble_since)}: {why}"
        if self.syncing_since is not None and not down and self.last_error is None:
            if self.last_success is None:
                return SourceState.STARTING, f"first sync running for {span(now - self.syncing_since)}"
            return SourceState.OK, f"syncing for {span(now - self.syncing_since)}"
        if self.last_success is None and not down and quiet < self.interval * 2 + LATE_SLACK_SECONDS:
            return SourceState.STARTING, "first sync running"
        if quiet >= self.interval * 2 + LATE_SLACK_SECONDS or down:
            why = f"; {self.last_error}" if self.last_error else ("; server down" if down else "")
            return SourceState.LATE, f"no sync for {span(quiet)}{why}"
        return SourceState.OK, f"synced {span(quiet)} ago"

    def _lag(self) -> dict[str, Any]:
        """The cursor, the newest message stored, and how far it is behind the server's newest (both
        are message dates, so no two clocks are compared)."""
        cursor, newest = self.position() if self.position else (None, None)
        theirs = (self.account or {}).get("newest_message_at")
        lag = max(0.0, theirs - newest) if theirs is not None and newest is not None else None
        return {"cursor": cursor, "newest_at": newest, "lag_seconds": lag}

    def _position(self) -> list[str]:
        found = self._lag()
        if found["newest_at"] is None:
            return []
        newest = datetime.fromtimestamp(found["newest_at"]).astimezone().strftime("%a %d %b %H:%M")
        lag = found["lag_seconds"]
        behind = (
            ""
            if lag is None
            else (", up to date with the server" if lag == 0 else f", {span(lag)} behind the server's newest")
        )
        return [f"newest message stored {newest}{behind}; cursor {found['cursor']}"]

    def outage_start(self, now: float) -> tuple[float, float]:
        """When the outage began, as the key of its alerts (one per outage) and on this machine's
        clock: the account's own red finding (its key is on its server's clock, so the outage counts
        from now), else the first failed sync, else the moment the server went down."""
        findings = self.findings()
        if findings and findings[0].severity is Severity.RED:
            return findings[0].since, now
        began = self.failing_since or (self.connection.state_since if self.connection else now)
        return began, began

    def alert_texts(self) -> tuple[str, str, str]:
        """The titles of the alerts when it stops and when it is back, and the end of the second."""
        return (
            f"Pepper stopped receiving {self.name}",
            f"Pepper receives {self.name} again",
            "; what arrived meanwhile is being caught up.",
        )

    def fix(self) -> str:
        """What to do about the source's trouble."""
        findings = self.findings()
        return findings[0].fix if findings else _advice(self.name)

    def snapshot(self, now: float) -> dict[str, Any]:
        state, reason = self.state(now)
        return {
            "name": self.name,
            "state": state.value,
            "reason": reason,
            "fix": self.fix() if state in (SourceState.LATE, SourceState.FAILING) else None,
            "details": [*describe(self.account), *self._position()] if self.account else self._position(),
            **self._lag(),
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
        self.others: list[Watched] = []  # judged like sources, not synced: the disk
        self._alerted: dict[str, tuple[float, float]] = {}  # source -> (outage start, when alerted)
        self._saved: dict[str, tuple[float, float | None]] = {}  # source -> (when saved, last success saved)

    def add(
        self, name: str, interval: float, alert_after: float, connection: ServerConnection | None = None,
        status_tool: str | None = None, position: Callable[[], tuple[str | None, float | None]] | None = None,
    ) -> SourceHealth:  # fmt: skip
        """Watch source `name`; with `status_tool`, also the account report its server gives; with
        `position`, the ingest's cursor and newest message (for the lag)."""
        self.sources[name] = SourceHealth(
            name, interval, alert_after, connection, started=self._clock(), status_tool=status_tool,
            position=position,
        )  # fmt: skip
        return self.sources[name]

    def snapshot(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [source.snapshot(now) for source in self._watched()]

    def _watched(self) -> list[Watched]:
        return [*self.sources.values(), *self.others]

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
            await self._read_account(source)
        source.succeeded(changes, self._clock())
        if self._clock() - self._saved.get(name, (-SAVE_SECONDS, None))[0] >= SAVE_SECONDS:
            await self._save(source)
        return changes

    async def _save(self, source: SourceHealth) -> None:
        await self._items.put(HEALTH_NAMESPACE, source.name, {"last_success": source.last_success})
        self._saved[source.name] = (self._clock(), source.last_success)

    async def flush(self) -> None:
        """Save every last success not saved yet (when Pepper stops)."""
        for source in self.sources.values():
            if (
                source.last_success is not None
                and self._saved.get(source.name, (0, None))[1] != source.last_success
            ):
                await self._save(source)

    async def _read_account(self, source: SourceHealth) -> None:
        """Ask the source's server for its account report (kept as it was when that fails)."""
        if source.status_tool is None or source.connection is None:
            return
        try:
            answer = await source.connection.call_tool(source.status_tool, {})
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            logger.debug("no account report from %s: %s", source.name, exc)
            return
        source.account = answer.structured

    async def watch(self, announce: Announce) -> None:
        """Every 30 s: one alert per outage when a source turns red, one when it is back."""
        while True:
            await self.check(announce)
            await anyio.sleep(WATCH_SECONDS)

    async def check(self, announce: Announce) -> None:
        now = self._clock()
        for source in self._watched():
            state, reason = source.state(now)
            outage = self._alerted.get(source.name)
            if state is SourceState.FAILING and outage is None:
                began, origin = source.outage_start(now)
                self._alerted[source.name] = (began, origin)
                down, _, _ = source.alert_texts()
                await announce(down, f"{reason}. {source.fix()}", f"health:{source.name}:down:{int(began)}")
            elif state is SourceState.OK and outage is not None:
                del self._alerted[source.name]
                began, origin = outage
                _, up, note = source.alert_texts()
                await announce(
                    up,
                    f"{source.name} is back after {span(now - origin)}{note}",
                    f"health:{source.name}:up:{int(began)}",
                )


def _advice(name: str) -> str:
    if name == "mail":
        return "Run `pepper-orchestrator doctor` to see why (a password or token that expired, the server unreachable)."
    return "Run `pepper-orchestrator doctor` to see why."
