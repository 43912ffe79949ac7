"""Resource subscriptions for Pepper's servers, in both MCP protocol eras.

FastMCP 4.x registers neither `resources/subscribe` (handshake era, up to 2025-11-25) nor
`subscriptions/listen` (2026-07-28) and so advertises `resources.subscribe = False`; the SDK's
`MCPServer` serves only `subscriptions/listen`, from a bus of its own.
`ResourceSubscriptions.install(server)` registers all three handlers on either framework's low-level
server (surface.lowlevel), which makes the SDK advertise the capability in either era. `notify(uri)` then
reaches every subscriber of `uri`: legacy sessions by a direct `notifications/resources/updated`, modern
clients through their listen stream. `subscribed_uris()` tells a server which URIs anyone follows, so
that a server whose URIs are patterns (the context store's `context://namespace/signals.*`) can notify
each pattern that matches a write.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated

from .surface import PepperServer, lowlevel

__all__ = ["ResourceSubscriptions"]

logger = logging.getLogger(__name__)


class ResourceSubscriptions:
    """Who follows which resource URI, and the means to tell them it changed."""

    def __init__(self) -> None:
        # Keyed by connection: the SDK builds a new ServerSession for every request, so the session
        # that subscribed is not the one that unsubscribes; any of them sends on the connection.
        self._legacy: dict[str, dict[object, ServerSession]] = {}
        self._listening: Counter[str] = Counter()
        self._bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self._bus)

    def install(self, server: PepperServer) -> None:
        """Serve `resources/subscribe`, `resources/unsubscribe` and `subscriptions/listen` on `server`."""
        low = lowlevel(server)
        low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, self._unsubscribe)
        low.add_request_handler(
            "subscriptions/listen", types.SubscriptionsListenRequestParams, self._listen_stream
        )

    def subscribed_uris(self) -> set[str]:
        """Every URI that at least one client follows now, in either era."""
        return {uri for uri, sessions in self._legacy.items() if sessions} | {
            uri for uri, count in self._listening.items() if count > 0
        }

    async def notify(self, uri: str) -> None:
        """Tell every subscriber of `uri` that it changed; a session that is gone is dropped."""
        subscribers = self._legacy.get(uri, {})
        for connection, session in list(subscribers.items()):
            try:
                with anyio.fail_after(5):
                    await session.send_resource_updated(uri)
            except Exception as exc:  # a dead or stuck session must not stop delivery to the rest
                logger.info("dropping subscriber of %s: %s", uri, exc)
                subscribers.pop(connection, None)
        if self._listening.get(uri, 0) > 0:
            await self._bus.publish(ResourceUpdated(uri=uri))

    def close(self) -> None:
        """End every open listen stream gracefully (server shutdown)."""
        self._listen.close()

    async def _subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        self._legacy.setdefault(str(params.uri), {})[_connection_of(ctx)] = ctx.session
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._legacy.get(str(params.uri), {}).pop(_connection_of(ctx), None)
        return types.EmptyResult()

    async def _listen_stream(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        uris = list(params.notifications.resource_subscriptions or ())
        self._listening.update(uris)
        try:
            return await self._listen(ctx, params)
        finally:
            self._listening.subtract(uris)
            for uri in uris:
                if self._listening[uri] <= 0:
                    del self._listening[uri]


def _connection_of(ctx: ServerRequestContext[Any, Any]) -> object:
    """The client connection a request arrived on (the SDK exposes it only privately)."""
    return ctx.session._connection
