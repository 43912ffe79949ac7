"""The tools workers may use, gathered from the connected servers; workers call them only through
the trust boundary (`orchestrator.trust.gate.GatedToolRunner`). A call that times out is made again
when its class allows (reads, idempotent or keyed calls); a write that timed out is reported as
possibly done, never repeated (orchestrator.supervision.timeouts). `follow()` keeps the list current:
a server that announces a new tool list (or comes back after a restart) is read again. A call to an
account's server has the stored ids among its arguments made that server's own
(`orchestrator.accounts.routing.provider_ids`)."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio

from orchestrator.accounts.routing import provider_ids
from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import RemoteTool, ServerConnection, ServerUnavailable
from orchestrator.supervision.timeouts import CallKind, classify, retry_timeouts

__all__ = ["Toolbox"]

logger = logging.getLogger(__name__)


class Toolbox:
    """Every tool of every connected server; a server that is down is left out and reported."""

    def __init__(self, connections: dict[str, ServerConnection], items: ContextItems | None = None) -> None:
        self.connections = connections
        self._items = items  # where an account's stored ids are looked up
        self.tools: dict[tuple[str, str], RemoteTool] = {}
        self.missing: dict[str, str] = {}
        self._reloaded = anyio.Event()

    async def load(self) -> list[RemoteTool]:
        """(Re)read the tools; the dicts are updated in place, so holders of them stay current."""
        for name in self.connections:
            await self.reload(name)
        return list(self.tools.values())

    async def reload(self, name: str) -> None:
        """Read the tools of server `name` again, replacing what was known of it."""
        try:
            tools = await self.connections[name].list_tools()
        except ServerUnavailable as exc:
            self.missing[name] = str(exc)
            logger.warning("tools of %s are unavailable: %s", name, exc)
            return
        for key in [key for key in self.tools if key[0] == name]:
            del self.tools[key]
        self.tools.update(((tool.server, tool.name), tool) for tool in tools)
        self.missing.pop(name, None)
        self._reloaded.set()
        self._reloaded = anyio.Event()

    def next_reload(self) -> anyio.Event:
        """The event set once a server's tools have next been read again."""
        return self._reloaded

    async def follow(self, names: list[str]) -> None:
        """Re-read a server's tools whenever it says they changed; runs until cancelled."""
        async with anyio.create_task_group() as followers:
            for name in names:
                followers.start_soon(self._follow_one, name)

    async def _follow_one(self, name: str) -> None:
        connection = self.connections[name]
        change = connection.tools_change()
        while True:
            await change.wait()
            change = connection.tools_change()
            await self.reload(name)
            logger.info("tools of %s: %s", name, ", ".join(t for s, t in self.tools if s == name) or "none")

    async def call(self, tool: RemoteTool, arguments: dict[str, Any]) -> str:
        """Run the call for real, with no gate: only the approval desk and the trust gate use this."""
        connection = self.connections[tool.server]
        arguments = await provider_ids(self._items, tool.server, arguments)  # as its server knows them

        async def kind() -> CallKind:
            return classify(tool, connection.spec.name, tool.name, arguments)

        outcome = await retry_timeouts(
            lambda: connection.call_tool(tool.name, arguments), kind, f"{tool.server}.{tool.name}"
        )
        if outcome.text or outcome.structured is None:
            return outcome.text
        return json.dumps(outcome.structured, ensure_ascii=False, default=str)
