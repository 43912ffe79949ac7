"""The tools workers may use, gathered from the connected servers; workers call them only through
the trust boundary (`orchestrator.trust.gate.GatedToolRunner`). A call that times out is made again
when its class allows (reads, idempotent or keyed calls); a write that timed out is reported as
possibly done, never repeated (orchestrator.supervision.timeouts)."""

from __future__ import annotations

import json
import logging
from typing import Any

from orchestrator.mcp_clients import RemoteTool, ServerConnection, ServerUnavailable
from orchestrator.supervision.timeouts import CallKind, classify, retry_timeouts

__all__ = ["Toolbox"]

logger = logging.getLogger(__name__)


class Toolbox:
    """Every tool of every connected server; a server that is down is left out and reported."""

    def __init__(self, connections: dict[str, ServerConnection]) -> None:
        self.connections = connections
        self.tools: dict[tuple[str, str], RemoteTool] = {}
        self.missing: dict[str, str] = {}

    async def load(self) -> list[RemoteTool]:
        """(Re)read the tools; the dicts are updated in place, so holders of them stay current."""
        self.tools.clear()
        self.missing.clear()
        for name, connection in self.connections.items():
            try:
                for tool in await connection.list_tools():
                    self.tools[(tool.server, tool.name)] = tool
            except ServerUnavailable as exc:
                self.missing[name] = str(exc)
                logger.warning("tools of %s are unavailable: %s", name, exc)
        return list(self.tools.values())

    async def call(self, tool: RemoteTool, arguments: dict[str, Any]) -> str:
        """Run the call for real, with no gate: only the approval desk and the trust gate use this."""
        connection = self.connections[tool.server]

        async def kind() -> CallKind:
            return classify(tool, connection.spec.name, tool.name, arguments)

        outcome = await retry_timeouts(
            lambda: connection.call_tool(tool.name, arguments), kind, f"{tool.server}.{tool.name}"
        )
        if outcome.text or outcome.structured is None:
            return outcome.text
        return json.dumps(outcome.structured, ensure_ascii=False, default=str)
