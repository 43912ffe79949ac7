"""The servers' health as the UI and `pepper-orchestrator status` show it, and a way to wait for
it to change so a page learns of a dead server within a second, not at the next periodic update."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio

from orchestrator.mcp_clients import ServerConnection

__all__ = ["server_status", "wait_for_change"]


def server_status(connections: dict[str, ServerConnection]) -> list[dict[str, Any]]:
    """One entry per server: its state (connecting, connected, down), since when, and why."""
    return [
        {
            "name": name,
            "state": connection.state.value,
            "since": connection.state_since,
            "error": connection.last_error,
            "reconnects": connection.reconnects,
        }
        for name, connection in connections.items()
    ]


async def wait_for_change(connections: Iterable[ServerConnection], patience: float) -> None:
    """Returns when any of `connections` changes state, or after `patience` seconds."""
    connections = list(connections)
    if not connections:
        await anyio.sleep(patience)
        return
    with anyio.move_on_after(patience):
        async with anyio.create_task_group() as waiters:

            async def first(connection: ServerConnection) -> None:
                await connection.wait_changed()
                waiters.cancel_scope.cancel()

            for connection in connections:
                waiters.start_soon(first, connection)
