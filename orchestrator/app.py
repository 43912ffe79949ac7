"""`Pepper`: the running assistant, wired from its settings. Wiring only; the parts live elsewhere.

Sense: the ingest bridge copies mail and calendar changes into `raw.*`; the mail and meeting feeds
turn them into `signals.*`. Think: the inbox bridge hands user messages and signals to the scheduler,
whose brain is the LLM (when an endpoint is configured) or the rules engine. Act: the tool-call engine
runs the scheduler's tools; delegated work goes to workers whose irreversible calls wait for approval.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from anyio.abc import TaskStatus
from pydantic import BaseModel

from orchestrator.accounts.senses import AccountSenses
from orchestrator.accounts.specs import account_connections
from orchestrator.activity import Activity
from orchestrator.brains.llm_brain import LLMBrain, llm_summarizer
from orchestrator.brains.rules_brain import RulesBrain
from orchestrator.chat import ChatLog
from orchestrator.chat_commands import answer_command, is_command
from orchestrator.config import ConfigError, OrchestratorSettings
from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Answer, Conversation
from orchestrator.conversation.lang import LANGUAGES
from orchestrator.conversation.services import Services, user_clock
from orchestrator.conversation.tools import run_action
from orchestrator.event_log import EventLog
from orchestrator.extensions.feed_triage import FeedTriage
from orchestrator.extensions.feeds import Feed, FeedContext, build_feed
from orchestrator.extensions.priority_triage import PrioritizedTriage
from orchestrator.extensions.servers import connect
from orchestrator.extensions.tool_trust import ToolClasses
from orchestrator.feeds.ingest import CalendarIngest, MailIngest, follow
from orchestrator.feeds.live_mail import LiveMail
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.meeting_feed import MeetingFeed
from orchestrator.feeds.runner import run_feed
from orchestrator.feeds.triage_llm import LLMTriage, RulesTriage
from orchestrator.health.account import STATUS_TOOL
from orchestrator.health.checks import check_disk
from orchestrator.health.disk import DiskHealth
from orchestrator.health.sources import HealthBook
from orchestrator.inbox_bridge import InboxBridge
from orchestrator.llm import ChatModel
from orchestrator.mcp_clients import (
    ServerConnection,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)
from orchestrator.notifications import NotificationMirror
from orchestrator.persistence import ContextCallJournal, ContextStateStore
from orchestrator.profile import ProfileBook
from orchestrator.scheduler.engine import ToolCallEngine
from orchestrator.scheduler.events import SchedulerEvent
from orchestrator.scheduler.history import plain_summary
from orchestrator.scheduler.loop import Decision, Scheduler
from orchestrator.scheduler.queue import EventQueue
from orchestrator.scheduler.user_lane import UserLane
from orchestrator.scheduler_tools import QUIET_TOOLS, SchedulerToolRunner, scheduler_tools
from orchestrator.step_writes import StepWrites
from orchestrator.supervision.retry import PatientConnection, supervised
from orchestrator.supervision.together import together
from orchestrator.triage.content_book import ContentBook
from orchestrator.triage.ranker_book import RankerBook
from orchestrator.trust.actions import ContextActionStore, Signer
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.gate import GatedToolRunner
from orchestrator.trust.ledger import ActionLedger
from orchestrator.trust.outbound import inert_links
from orchestrator.workers.loop import Worker
from orchestrator.workers.pool import WorkerPool, WorkerRun
from orchestrator.workers.toolbox import Toolbox

__all__ = ["Pepper"]

logger = logging.getLogger(__name__)
OVERDUE_CHECK_SECONDS = 600
APPROVAL_CHECK_SECONDS = 300
MAIL_SYNC_SECONDS = 60.0  # a safety-net look even when no change notification arrives
CALENDAR_SYNC_SECONDS = 300.0


class Pepper:
    def __init__(self, settings: OrchestratorSettings) -> None:
        self.settings = settings
        self.added = settings.added_servers()  # the user's own MCP servers, supervised like Pepper's
        self.connections = {
            name: connect(settings, name)
            for name in (
                "context",
                "gmail",
                "calendar",
                "notify",
                *account_connections(settings),
                *self.added,
            )
            if settings.server(name).enabled
        }
        if "context" not in self.connections:
            raise ValueError("the context store cannot be disabled: everything else builds on it")
        context = PatientConnection(self.connections["context"])  # the loops wait out its restarts
        self.items = ContextItems(context)
        self.log = EventLog(context)
        self.chat = ChatLog(self.items)
        self.activity = Activity(self.items)
        self.model = ChatModel(settings.llm()) if settings.llm_mode else None
        self.mode = "llm" if self.model else "rules"
        self.toolbox = Toolbox(self.connections, self.items)
        self.tool_classes = ToolClasses(settings.servers, settings.tool_classes, self.toolbox.tools)
        self.desk = self._make_desk()
        self.workers = (
            WorkerPool(self._make_worker, self.items, custom=settings.workers) if self.model else None
        )
        self.engine = ToolCallEngine(
            SchedulerToolRunner(
                self.items,
                self.connections.get("notify"),
                self.reply,
                self.workers,
                ui_hosts=self._ui_hosts(),
                actions=self._conversation_action,
            ),
            self._deliver,
            ContextCallJournal(self.items),
            limit=settings.max_concurrent_tools,
            timeout=settings.tool_timeout_seconds,
            repeatable=SchedulerToolRunner.repeatable,
        )
        self.scheduler_state = ContextStateStore(self.items, deferred=True)  # saved with each step's writes
        self.scheduler = Scheduler(
            LLMBrain(self.model, self._profile_text) if self.model else RulesBrain(),
            self.engine,
            scheduler_tools(self.model is not None, settings.workers),
            self.reply,
            llm_summarizer(self.model) if self.model else plain_summary,
            queue=EventQueue(settings.queue_size),
            state=self.scheduler_state,
            batch_size=settings.batch_size,
            quiet_tools=QUIET_TOOLS,
            on_step=self._after_step,
        )
        self.inbox = InboxBridge(self.items, self.log, self.scheduler)
        self.step_writes = StepWrites(self.inbox, self.scheduler_state, self.activity)
        content = ContentBook(self.items)
        triage = (
            LLMTriage(self.model, self.items, content.model, mail=self._mail_servers())
            if self.model
            else RulesTriage(content.model)
        )
        if settings.priority:  # the user's [[priority]] rules, after either engine
            triage = PrioritizedTriage(triage, settings.priority)
        self.profiles = ProfileBook(self.items, settings.user_addresses, settings.vips)
        self.ranker = RankerBook(self.items)
        self.live_mail = LiveMail()  # new mail ahead of a first sync's backfill
        self.mail_feed = MailFeed(
            self.items,
            settings.user_addresses,
            settings.vips,
            engine=triage,
            profiles=self.profiles,
            content=content,
            ranker=self.ranker,
            live=self.live_mail,
        )
        self.lane = UserLane()  # a user's message goes before ingest and triage work
        self.mail_ingest = (
            MailIngest(
                gmail,
                self.items,
                log=self.log,
                triage_days=settings.triage_days,
                lane=self.lane,
                live=self.live_mail,
            )
            if (gmail := self.connections.get("gmail"))
            else None
        )
        services = Services(
            self.connections, self.items, self.desk, self.toolbox.tools, self.profiles,
            settings.user_addresses, settings.timezone, ranker=self.ranker,
        )  # fmt: skip
        language = LANGUAGES[settings.language]
        self.conversation = Conversation(services, user_clock(settings.timezone), language)
        self.health = HealthBook(self.items)
        alert_after = settings.health_alert_minutes * 60
        for source, server, interval in (
            ("mail", "gmail", MAIL_SYNC_SECONDS),
            ("calendar", "calendar", CALENDAR_SYNC_SECONDS),
        ):
            if server in self.connections:
                report = STATUS_TOOL if server == "gmail" else None  # the account's own health
                self.health.add(source, interval, alert_after, self.connections[server], report,
                                self._mail_position if server == "gmail" else None)  # fmt: skip
        self.health.others.append(DiskHealth(functools.partial(check_disk, settings)))
        self.accounts = AccountSenses(settings, self.connections, self.items, self.log, self.lane)
        self.accounts.add_health(self.health, MAIL_SYNC_SECONDS, CALENDAR_SYNC_SECONDS, alert_after)
        self.feeds = _custom_feeds(settings, self.connections)
        self.notifications = (
            NotificationMirror(self.connections["notify"], self.items)
            if "notify" in self.connections
            else None
        )

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect, restore, and run every loop until cancelled; started once the loops are up."""
        async with anyio.create_task_group() as task_group:
            async with anyio.create_task_group() as starting:  # the servers start side by side
                for connection in self.connections.values():
                    starting.start_soon(task_group.start, connection.run)
            await self.toolbox.load()
            task_group.start_soon(self.toolbox.follow, self.added)
            await self._restore()
            await self.health.restore()
            self._start_senses(task_group)
            task_group.start_soon(supervised, "inbox bridge", self.inbox.run)
            task_group.start_soon(supervised, "step writes", self.step_writes.run)
            await task_group.start(self.scheduler.run)
            task_group.start_soon(self.activity.record, "start", f"Pepper started in {self.mode} mode")
            _start_supervised(task_group, "conversation mail index", self.conversation.follow_mail, self.log)
            if self.model is None and self.settings.workers:
                names = ", ".join(self.settings.workers)
                note = f"custom workers unavailable in rules mode (they need a language model): {names}"
                task_group.start_soon(self.activity.record, "workers", note)
            task_status.started()

    def _start_senses(self, task_group: anyio.abc.TaskGroup) -> None:
        """Each loop is `supervised`: one that stops because a server is gone starts again, from its
        cursor, once the server is back."""
        start = functools.partial(_start_supervised, task_group)
        if (gmail := self.connections.get("gmail")) and self.mail_ingest:
            sync = functools.partial(self.health.record, "mail", self.mail_ingest.sync)
            start("mail ingest", follow, gmail, "gmail://inbox", sync, MAIL_SYNC_SECONDS)
            start(
                "new mail lane", follow, gmail, "gmail://inbox", self.mail_ingest.sync_live, MAIL_SYNC_SECONDS
            )
        self.accounts.start(start, self.health, MAIL_SYNC_SECONDS, CALENDAR_SYNC_SECONDS)
        if self.mail_ingest or self.accounts.mail:
            start("mail feed", functools.partial(run_feed, lane=self.lane), self.mail_feed, self.log)
            start("ranking stored mail", self.mail_feed.rank_unranked)
            start("overdue check", self._check_overdue)
        start("approvals watch", self._watch_approvals)
        if calendar := self.connections.get("calendar"):
            ingest = CalendarIngest(calendar, self.items, horizon=timedelta(days=2))
            sync = functools.partial(self.health.record, "calendar", ingest.sync)
            start("calendar ingest", follow, calendar, "calendar://upcoming", sync, CALENDAR_SYNC_SECONDS)
        if calendar or self.accounts.calendar:
            meetings = MeetingFeed(self.items, mail=self._mail_servers())
            start("meeting feed", run_feed, meetings, self.log)
        if self.notifications is not None:
            start("notifications mirror", self.notifications.run)
        start("health watch", self.health.watch, self._announce)
        for name, feed in self.feeds.items():
            triage = FeedTriage(self.model) if self.model else None
            context = FeedContext(name, self.connections, self.items, self.settings.priority, triage)
            start(f"feed {name}", feed.run, context)

    async def _restore(self) -> None:
        entries, queued = await ContextStateStore(self.items).load()
        self.scheduler.history.entries = entries
        for event in queued:
            await self.scheduler.put(event)

    async def send(self, text: str) -> None:
        """A message from the user: kept in the chat, answered by the scheduler (through the log),
        or at once by code when it is a command (approvals, the profile: see chat_commands). In rules
        mode the conversation engine answers every message at once (see orchestrator.conversation)."""
        if self.model is None:
            await self.ask(text)
            return
        async with self.lane.serving():  # until the scheduler has the message
            await self._send_to_scheduler(text)

    async def _send_to_scheduler(self, text: str) -> None:
        if is_command(text):
            await self.chat.add("user", text, command=True)
            answer = await answer_command(self.desk, text, self.profiles)
            await self.chat.add("assistant", answer or "", command=True)
            return
        await self.chat.add("user", text)

    async def ask(self, text: str) -> Answer:
        """The conversation engine's answer to `text`, kept in the chat (both modes can use it);
        ingest and triage wait while it is worked out (the user's lane)."""
        async with self.lane.serving():  # the user's message is stored while it is answered
            _, answer = await together(
                functools.partial(self.chat.add, "user", text, command=True),
                functools.partial(self.conversation.answer, text),
            )
            await self.chat.add("assistant", answer.text, command=True)
        return answer

    async def _conversation_action(self, name: str, arguments: BaseModel) -> str:
        """An LLM-mode tool call of the conversation's actions, run as rules mode runs it."""
        return await run_action(self.conversation, name, arguments)

    async def reply(self, text: str) -> None:
        """Pepper's chat message; a link in it (from mail, as often as not) is shown, never live."""
        await self.chat.add("assistant", inert_links(text, self._ui_hosts()))

    async def _deliver(self, event: SchedulerEvent) -> None:
        await self.scheduler.put(event)
        state = "done" if event.attributes.get("ok", True) else "failed"
        await self.activity.record(
            "tool_result",
            f"{event.source} {state}",
            call_id=event.attributes.get("id"),
            output=event.content[:500],
        )

    async def _after_step(self, batch: list[SchedulerEvent], decision: Decision) -> None:
        """The step's writes (the scheduler's state, the inbox's cursor, the activity record) are
        stored together by `step_writes`."""
        tokens = self.model.usage.total_tokens if self.model else 0
        calls = ", ".join(call.name for call in decision.calls) or "no tool calls"
        self.step_writes.after_step(
            [int(event.attributes["seq"]) for event in batch if "seq" in event.attributes],
            f"step {self.scheduler.steps}: {len(batch)} event{'s' if len(batch) != 1 else ''} → {calls}",
            tokens_total=tokens,
            in_flight=len(self.engine.in_flight),
        )

    async def _check_overdue(self) -> None:
        while True:
            await anyio.sleep(OVERDUE_CHECK_SECONDS)
            await self.mail_feed.check_overdue()

    async def _watch_approvals(self) -> None:
        while True:
            try:
                await self.desk.sweep()
            except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
                logger.warning("could not check the pending actions: %s", exc)
            await anyio.sleep(APPROVAL_CHECK_SECONDS)

    async def _announce(self, title: str, body: str, dedupe_key: str) -> None:
        notify = self.connections.get("notify")
        if notify is None:
            await self.reply(f"{title}\n{body}")
            return
        arguments = {"title": title, "body": body, "priority": "normal", "source": "pepper"}
        await notify.call_tool("send_notification", {**arguments, "dedupe_key": dedupe_key})

    def _mail_servers(self) -> list[ServerConnection]:
        """The gmail server of every mail account (the default first): where mail is searched by words."""
        names = ["gmail", *account_connections(self.settings, "gmail")]
        return [self.connections[name] for name in names if name in self.connections]

    def _mail_position(self) -> tuple[str | None, float | None]:
        ingest = self.mail_ingest
        return (ingest.cursor, ingest.newest_at) if ingest else (None, None)

    def _ui_hosts(self) -> list[str]:
        return [self.settings.ui_host] if self.settings.ui_host not in ("0.0.0.0", "::") else []

    def _profile_text(self) -> str:
        profile = self.profiles.profile
        return profile.describe(now=datetime.now(UTC)) if profile is not None else ""

    def _make_desk(self) -> ApprovalDesk:
        """The approval desk, its signing key in the data directory (never in the context store)."""
        return ApprovalDesk(
            ContextActionStore(
                self.items,
                Signer.from_data_dir(self.settings.data_dir),
                ActionLedger.in_data_dir(self.settings.data_dir),
            ),
            self.toolbox.call,
            self.toolbox.tools,
            profile=lambda: self.profiles.profile,
            announce=self._announce,
            remind_after=timedelta(hours=self.settings.approval_reminder_hours),
        )

    def _make_worker(self, run: WorkerRun) -> Worker:
        assert self.model is not None, "workers exist only in LLM mode"
        runner = GatedToolRunner(
            self.toolbox.call, self.desk, run.name, task=run.task, items=self.items, tainted=run.remembers,
            origin=run.origin,
            extra=self.tool_classes, ui_hosts=self._ui_hosts(),
        )  # fmt: skip
        tools = [
            t
            for t in self.toolbox.tools.values()
            if run.config is None or run.config.allows(t.server, t.name)
        ]
        instructions = run.config.instructions if run.config else ""
        return Worker(self.model, tools, runner, instructions=instructions, fenced=self.added)

    def custom_workers(self) -> list[dict[str, Any]]:
        """The `[workers.NAME]` of the config, and whether they can run (they need a model)."""
        return [
            {
                "name": name,
                "description": config.description,
                "stateful": config.stateful,
                "available": self.model is not None,
                "why": None if self.model is not None else "rules mode: custom workers need a language model",
            }
            for name, config in self.settings.workers.items()
        ]

    async def flush(self) -> None:
        """Save what is saved lazily (the sources' last success, the inbox's log cursor): Pepper is
        stopping and its servers are still up."""
        await self.health.flush()
        await self.step_writes.flush()
        await self.inbox.ack()

    async def aclose(self) -> None:
        if self.model is not None:
            await self.model.close()


def _custom_feeds(settings: OrchestratorSettings, connections: dict[str, Any]) -> dict[str, Feed]:
    """The `[feeds.NAME]` of the config, each built now so that a missing plugin or server stops the
    start with a clear message instead of failing later."""
    feeds = {}
    for name, config in settings.feeds.items():
        if config.server and config.server not in connections:
            raise ConfigError(f"feeds.{name}: the server {config.server!r} is disabled")
        if config.triage == "llm" and not settings.llm_mode:
            raise ConfigError(f'feeds.{name}: triage = "llm" needs a model (OPENAI_BASE_URL); or use "auto"')
        try:
            feeds[name] = build_feed(config)
        except ValueError as exc:
            raise ConfigError(f"feeds.{name}: {exc}") from exc
    return feeds


def _start_supervised(
    task_group: anyio.abc.TaskGroup, name: str, loop: Callable[..., Awaitable[None]], *args: Any
) -> None:
    task_group.start_soon(supervised, name, functools.partial(loop, *args), name=name)
