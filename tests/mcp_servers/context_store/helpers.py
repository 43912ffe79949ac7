"""Helpers shared by the context store's MCP tests: subscribing in either protocol era."""

from __future__ import annotations

import warnings

import anyio
from fastmcp import Client
from fastmcp.client.messages import MessageHandler


class UpdateRecorder(MessageHandler):
    """Collects the URIs of `notifications/resources/updated` a legacy client receives."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self._changed = anyio.Event()

    async def on_resource_updated(self, message) -> None:  # type: ignore[override]
        self.uris.append(str(message.params.uri))
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, count: int) -> list[str]:
        """The URIs received, once there are `count` of them (fails after 10 s)."""
        with anyio.fail_after(10):
            while len(self.uris) < count:
                await self._changed.wait()
        return self.uris


async def legacy_subscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # subscribe_resource is deprecated in the 2026 era
        await client.session.subscribe_resource(uri)
