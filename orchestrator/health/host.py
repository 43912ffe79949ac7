"""Pepper's own state for MCP hosts: `pepper-orchestrator serve pepper`, a small stdio MCP server.

It answers from the running Pepper (found like `status` finds it: the data dir's record, or the
port) with the servers, the sources (mail, calendar: ok, late or failing, why and what to do; the
mail account's own report: token age and expiry, the push watch) and the disk, the mode and how
many actions wait for approval, as the resource `pepper://health` and the tool `get_health`. When
Pepper is not running it says so, rather than failing.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastmcp import FastMCP
from mcp.types import ToolAnnotations

from orchestrator.config import OrchestratorSettings
from orchestrator.remote import api_address

__all__ = ["HEALTH_URI", "build_health_server", "health_snapshot"]

HEALTH_URI = "pepper://health"
REQUEST_SECONDS = 10.0


async def health_snapshot(settings: OrchestratorSettings) -> dict[str, Any]:
    """The running Pepper's health, or why it could not be read."""
    base, headers = api_address(settings)
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=REQUEST_SECONDS) as client:
            response = await client.get("/state")
    except httpx.HTTPError as exc:
        return {
            "running": False,
            "error": f"Pepper is not running on port {settings.ui_port} ({type(exc).__name__})",
        }
    answer = response.json()
    status = answer.get("status") or {}
    return {
        "running": True,
        "mode": status.get("mode"),
        "servers": status.get("servers", []),
        "sources": status.get("sources", []),
        "pending_approvals": len(answer.get("approvals", [])),
        "error": answer.get("error"),
    }


def build_health_server(settings: OrchestratorSettings) -> FastMCP:
    """The `pepper` MCP server: Pepper's health for a host, read-only."""
    server = FastMCP(
        "pepper",
        instructions="Pepper's own health: its servers, mail and calendar sources, accounts and disk.",
    )

    @server.resource(HEALTH_URI, mime_type="application/json", name="health")
    async def health() -> str:
        """Whether Pepper runs, and each server's and source's state with the reason."""
        return json.dumps(await health_snapshot(settings))

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False))
    async def get_health() -> dict[str, Any]:
        """Whether Pepper runs; each server (connected/down) and source (ok/late/failing, why, what to
        do, the account's tokens and push watch), and the disk."""
        return await health_snapshot(settings)

    return server
