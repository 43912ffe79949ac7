"""The senses of accounts other than `default`: for each, its own ingest loop and health source.

Mail of every mail account lands in `raw.email` (ids scoped by account, see `feeds.ingest`), where the
one mail feed triages it; events of every calendar account land in `raw.calendar` the same way.
Each loop follows its own server, so one account that is down never stalls another.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from orchestrator.accounts.names import account_of
from orchestrator.accounts.specs import account_connections
from orchestrator.config import OrchestratorSettings
from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.ingest import CalendarIngest, MailIngest, follow
from orchestrator.health.sources import HealthBook
from orchestrator.mcp_clients import ServerConnection
from orchestrator.scheduler.user_lane import UserLane

__all__ = ["AccountSenses"]


class AccountSenses:
    """The ingest loops of the extra accounts; `mail` holds each mail account's `MailIngest`."""

    def __init__(
        self,
        settings: OrchestratorSettings,
        connections: dict[str, ServerConnection],
        items: ContextItems,
        log: EventLog,
        lane: UserLane,
    ) -> None:
        self._connections = connections
        self.mail = {
            name: MailIngest(
                connections[name], items, log=log, triage_days=settings.triage_days, lane=lane,
                account=account_of(name),
            )
            for name in account_connections(settings, "gmail")
            if name in connections
        }  # fmt: skip
        self.calendar = {
            name: CalendarIngest(
                connections[name], items, horizon=timedelta(days=2), account=account_of(name)
            )
            for name in account_connections(settings, "calendar")
            if name in connections
        }

    def add_health(
        self, health: HealthBook, mail_every: float, calendar_every: float, alert_after: float
    ) -> None:
        """One health source per account: `mail.work`, `calendar.home`."""
        for name in self.mail:
            health.add(f"mail.{account_of(name)}", mail_every, alert_after, self._connections[name])
        for name in self.calendar:
            health.add(f"calendar.{account_of(name)}", calendar_every, alert_after, self._connections[name])

    def start(
        self, start: Callable[..., Any], health: HealthBook, mail_every: float, calendar_every: float
    ) -> None:
        """Start each account's ingest loop with `start(name, loop, *args)` (supervised)."""
        for name, ingest in self.mail.items():
            sync = functools.partial(health.record, f"mail.{account_of(name)}", ingest.sync)
            start(f"mail ingest {name}", follow, self._connections[name], "gmail://inbox", sync, mail_every)
        for name, ingest in self.calendar.items():
            sync = functools.partial(health.record, f"calendar.{account_of(name)}", ingest.sync)
            uri = "calendar://upcoming"
            start(f"calendar ingest {name}", follow, self._connections[name], uri, sync, calendar_every)
