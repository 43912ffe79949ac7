"""Custom feeds: what the user adds in `[feeds.NAME]` to sense a new source, without code or with it.

A feed is anything with `async run(context: FeedContext)` (the `Feed` protocol); it runs as long as
Pepper does, supervised like Pepper's own loops (a server that is down stops it; it starts again once
the server is back), and reports what matters with `context.publish(...)`, which stores a signal
`signals.feed/NAME:ENTRY_ID` unless that entry was published before, so a feed that restarts and reads
everything again adds nothing twice. The scheduler receives the signals as it does the mail's; a high
or urgent one becomes a notification in either mode.

`DeclarativeFeed` is the feed a `[feeds.NAME]` table describes: it subscribes to a resource of a
connected `server` (its `uri`, or a `resource_template` filled from `params`, or named among the
templates the server lists), and on start and on each update reads it (a JSON list of entries, or an
object with the list under `entries`), or, when the table names a `changes_tool`
(`list_changes`-style: `since` a cursor, `limit`; it answers the entries, `cursor` and `has_more`),
pages from the cursor saved in `state.cursors/feed.NAME`, saving it after each page's signals: so a
restart resumes where it stopped, losing nothing and repeating nothing. Each entry is judged by the
first matching `rules` entry or, with a model configured (`triage = "auto"` or `"llm"`), by the
model (`feed_triage`). Every signal then passes the user's `[[priority]]` rules (`priority`). A
plugin feed comes from a package: `plugin = "NAME"` names an entry point of the `pepper.feeds` group,
a factory that receives the table's `options` and returns a `Feed`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.extensions.config import FeedConfig, FeedRule, Priority, fill_template
from orchestrator.extensions.feed_triage import EntryVerdict, FeedTriage
from orchestrator.extensions.priority import PriorityRule, Subject, apply_rules
from orchestrator.feeds.signals import Signal
from orchestrator.mcp_clients import ServerConnection, ToolCallFailed

__all__ = ["ENTRY_POINT_GROUP", "DeclarativeFeed", "Feed", "FeedContext", "build_feed"]

logger = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "pepper.feeds"
CURSORS = "state.cursors"
PAGE_SIZE = 100


@runtime_checkable
class Feed(Protocol):
    """A source of signals. `run` returns only when the feed has nothing more to do, ever."""

    async def run(self, context: FeedContext) -> None: ...


class FeedContext:
    """What a feed may use: the connected servers (by name), `publish`, the context store (`items`,
    for a cursor of its own) and the model's triage (`triage`, None in rules mode)."""

    def __init__(
        self,
        name: str,
        connections: Mapping[str, ServerConnection],
        items: ContextItems,
        priorities: Iterable[PriorityRule] = (),
        triage: FeedTriage | None = None,
    ) -> None:
        self.name = name
        self._connections = connections
        self.items = items
        self.priorities = list(priorities)
        self.triage = triage
        self._published: set[str] = set()

    def connection(self, server: str) -> ServerConnection:
        if server not in self._connections:
            raise ValueError(f"feed {self.name}: no connected server named {server!r}")
        return self._connections[server]

    async def publish(
        self,
        entry_id: str,
        *,
        priority: Priority,
        summary: str,
        reasons: Iterable[str] = (),
        link: str | None = None,
        people: Iterable[str] = (),
        text: str = "",
        sender: str | None = None,
    ) -> bool:
        """Store the signal for entry `entry_id` of this feed unless it exists; True when it is new.
        The user's priority rules see `summary` and `text` (keywords) and `sender` (an address)."""
        subject = Subject(
            source="feed", feed=self.name, sender=sender, text=f"{summary}\n{text}", priority=priority
        )
        priority, ruled = apply_rules(self.priorities, subject)
        reasons = [*reasons, *([ruled] if ruled else [])]
        signal = Signal(
            kind="feed",
            source_id=f"{self.name}:{entry_id}",
            priority=priority,
            category="feed",
            summary=summary,
            reasons=[f"feed {self.name}", *reasons],
            link=link,
            people=list(people),
        )
        if signal.source_id in self._published:
            return False
        self._published.add(signal.source_id)
        if await self.items.get(signal.namespace, signal.source_id) is not None:
            return False
        await self.items.put(**signal.put_arguments())
        return True


class DeclarativeFeed:
    """The feed of a `[feeds.NAME]` table with `server`, a `uri` or `resource_template`, and `rules`."""

    def __init__(self, config: FeedConfig) -> None:
        assert config.server and (config.uri or config.resource_template), "FeedConfig checks this"
        self.config = config
        self.uri = config.uri or ""

    async def run(self, context: FeedContext) -> None:
        connection = context.connection(self.config.server or "")
        self.uri = await self.resolve_uri(connection)
        wake = [anyio.Event()]
        async with anyio.create_task_group() as watching:
            watching.start_soon(connection.watch, self.uri, lambda: wake[0].set())
            while True:
                woken = wake[0]
                await woken.wait()  # `watch` wakes once at each (re)subscription: the catch-up read
                wake[0] = anyio.Event()
                await self.read_once(context, connection)

    async def resolve_uri(self, connection: ServerConnection) -> str:
        """The URI followed: `uri`, the template filled from `params`, or the server's template of
        that name, filled likewise."""
        template = self.config.resource_template
        if not template:
            return self.config.uri or ""
        if "{" not in template:
            listed = await connection.list_resource_templates()
            if template not in listed:
                names = ", ".join(sorted(listed)) or "none"
                raise ValueError(f"{connection.spec.name} lists no resource template {template!r} ({names})")
            template = listed[template]
        return fill_template(template, self.config.params)

    async def read_once(self, context: FeedContext, connection: ServerConnection) -> int:
        """Read the new entries and publish them; the number published."""
        if self.config.changes_tool:
            return await self._read_changes(context, connection)
        try:
            entries = self.entries(json.loads(await connection.read_resource(self.uri)))
        except (ToolCallFailed, ValueError) as exc:  # the next update may be readable: keep following
            logger.warning("feed %s could not read %s: %s", context.name, self.uri, exc)
            return 0
        published = 0
        for entry in entries:
            published += await self._publish(context, entry)
        return published

    async def _read_changes(self, context: FeedContext, connection: ServerConnection) -> int:
        """Page through `changes_tool` from the saved cursor; each page's cursor is saved after its
        signals, so a restart neither loses nor repeats an entry."""
        saved = await context.items.get(CURSORS, f"feed.{context.name}")
        cursor = saved.data.get("cursor") if saved is not None and isinstance(saved.data, dict) else None
        published = 0
        while True:
            arguments: dict[str, Any] = {**self.config.changes_arguments, "limit": PAGE_SIZE}
            if cursor:
                arguments["since"] = cursor
            try:
                outcome = await connection.call_tool(self.config.changes_tool or "", arguments)
                page = outcome.structured or json.loads(outcome.text)
                entries = self.entries(page, default_key="changes")
            except (ToolCallFailed, ValueError) as exc:
                logger.warning("feed %s could not page %s: %s", context.name, self.config.changes_tool, exc)
                return published
            for entry in entries:
                published += await self._publish(context, entry)
            if page.get("cursor") and page["cursor"] != cursor:
                cursor = page["cursor"]
                await context.items.put(CURSORS, f"feed.{context.name}", {"cursor": cursor})
            if not page.get("has_more") or not entries:
                return published

    def entries(self, document: Any, default_key: str = "") -> list[dict[str, Any]]:
        key = self.config.entries or default_key
        found = document.get(key) if key and isinstance(document, dict) else document
        if not isinstance(found, list):
            where = f"under {key!r}" if key else "at the top"
            raise ValueError(f"the answer has no list of entries {where}")
        return [entry for entry in found if isinstance(entry, dict) and self.config.id_field in entry]

    async def _publish(self, context: FeedContext, entry: dict[str, Any]) -> bool:
        entry_id = str(entry[self.config.id_field])
        if await context.items.get("signals.feed", f"{context.name}:{entry_id}") is not None:
            return False  # judged before (a model is not asked twice)
        verdict = self._by_rules(entry)
        if context.triage is not None and self.config.triage != "rules":
            verdict = await context.triage.judge(context.name, entry, verdict)
        if verdict.priority == "skip":
            return False
        sender = next(
            (str(entry[k]) for k in ("sender", "from", "email") if "@" in str(entry.get(k, ""))), None
        )
        return await context.publish(
            entry_id,
            priority=verdict.priority,
            summary=verdict.summary,
            reasons=verdict.reasons,
            link=self.uri,
            text=" ".join(str(value) for value in entry.values() if isinstance(value, str)),
            sender=sender,
        )

    def _by_rules(self, entry: dict[str, Any]) -> EntryVerdict:
        rule = next((rule for rule in self.config.rules if rule.matches(entry)), None)
        fallback = str(entry[self.config.id_field])
        summary = (rule or FeedRule(pattern=".", priority="low")).summarize(entry) or fallback
        if rule is not None:
            why = [f"{rule.field} matches /{rule.pattern}/"]
            return EntryVerdict(priority=rule.priority, summary=summary[:200], reasons=why)
        return EntryVerdict(
            priority=self.config.default_priority, summary=summary[:200], reasons=["matched no rule"]
        )


def build_feed(config: FeedConfig) -> Feed:
    """The feed a `[feeds.NAME]` table describes; a plugin is looked up in the entry points."""
    if not config.plugin:
        return DeclarativeFeed(config)
    found = entry_points(group=ENTRY_POINT_GROUP, name=config.plugin)
    if not found:
        installed = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))) or "none"
        raise ValueError(f"no feed plugin named {config.plugin!r} is installed (installed: {installed})")
    feed = next(iter(found)).load()(config.options)
    if not isinstance(feed, Feed):
        raise ValueError(
            f"the feed plugin {config.plugin!r} returned {type(feed).__name__}, which has no run()"
        )
    return feed
