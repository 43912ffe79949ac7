"""Custom feeds: what the user adds in `[feeds.NAME]` to sense a new source, without code or with it.

A feed is anything with `async run(context: FeedContext)` (the `Feed` protocol); it runs as long as
Pepper does, supervised like Pepper's own loops (a server that is down stops it; it starts again once
the server is back), and reports what matters with `context.publish(...)`, which stores a signal
`signals.feed/NAME:ENTRY_ID` unless that entry was published before, so a feed that restarts and reads
everything again adds nothing twice. The scheduler receives the signals as it does the mail's; a high
or urgent one becomes a notification in either mode.

`DeclarativeFeed` is the feed a `[feeds.NAME]` table describes: it subscribes to a resource `uri` of a
connected `server`, reads it on start and on each update (a JSON list of entries, or an object with
the list under `entries`), and turns each entry by the first matching `rules` entry into a signal. A
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
from orchestrator.extensions.config import FeedConfig, FeedRule, Priority
from orchestrator.feeds.signals import Signal
from orchestrator.mcp_clients import ServerConnection, ToolCallFailed

__all__ = ["ENTRY_POINT_GROUP", "DeclarativeFeed", "Feed", "FeedContext", "build_feed"]

logger = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "pepper.feeds"


@runtime_checkable
class Feed(Protocol):
    """A source of signals. `run` returns only when the feed has nothing more to do, ever."""

    async def run(self, context: FeedContext) -> None: ...


class FeedContext:
    """What a feed may use: the connected servers (by name) and `publish`."""

    def __init__(self, name: str, connections: Mapping[str, ServerConnection], items: ContextItems) -> None:
        self.name = name
        self._connections = connections
        self._items = items
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
    ) -> bool:
        """Store the signal for entry `entry_id` of this feed unless it exists; True when it is new."""
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
        if await self._items.get(signal.namespace, signal.source_id) is not None:
            return False
        await self._items.put(**signal.put_arguments())
        return True


class DeclarativeFeed:
    """The feed of a `[feeds.NAME]` table with `server`, `uri` and `rules`."""

    def __init__(self, config: FeedConfig) -> None:
        assert config.server and config.uri, "FeedConfig checks this"
        self.config = config

    async def run(self, context: FeedContext) -> None:
        connection = context.connection(self.config.server or "")
        wake = [anyio.Event()]
        async with anyio.create_task_group() as watching:
            watching.start_soon(connection.watch, self.config.uri or "", lambda: wake[0].set())
            while True:
                woken = wake[0]
                await woken.wait()  # `watch` wakes once at each (re)subscription: the catch-up read
                wake[0] = anyio.Event()
                await self.read_once(context, connection)

    async def read_once(self, context: FeedContext, connection: ServerConnection) -> int:
        """Read the resource and publish its new entries; the number published."""
        try:
            entries = self.entries(await connection.read_resource(self.config.uri or ""))
        except (ToolCallFailed, ValueError) as exc:  # the next update may be readable: keep following
            logger.warning("feed %s could not read %s: %s", context.name, self.config.uri, exc)
            return 0
        published = 0
        for entry in entries:
            published += await self._publish(context, entry)
        return published

    def entries(self, text: str) -> list[dict[str, Any]]:
        document = json.loads(text)
        found = (
            document.get(self.config.entries)
            if self.config.entries and isinstance(document, dict)
            else document
        )
        if not isinstance(found, list):
            where = f"under {self.config.entries!r}" if self.config.entries else "at the top"
            raise ValueError(f"the resource has no list of entries {where}")
        return [entry for entry in found if isinstance(entry, dict) and self.config.id_field in entry]

    async def _publish(self, context: FeedContext, entry: dict[str, Any]) -> bool:
        rule = next((rule for rule in self.config.rules if rule.matches(entry)), None)
        if rule is None and self.config.default_priority == "skip":
            return False
        priority = rule.priority if rule else self.config.default_priority
        summary = (rule or FeedRule(pattern=".", priority="low")).summarize(entry) or str(
            entry[self.config.id_field]
        )
        why = [f"{rule.field} matches /{rule.pattern}/"] if rule else ["matched no rule"]
        return await context.publish(
            str(entry[self.config.id_field]),
            priority=priority,
            summary=summary,
            reasons=why,
            link=self.config.uri,
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
