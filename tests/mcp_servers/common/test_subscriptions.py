"""ResourceSubscriptions delivers resource updates to both MCP protocol eras."""

from __future__ import annotations

import warnings

import anyio
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.messages import MessageHandler
from mcp.client.subscriptions import listen

from mcp_servers.common.subscriptions import ResourceSubscriptions

pytestmark = pytest.mark.anyio


class UpdateRecorder(MessageHandler):
    """Collects the URIs of `notifications/resources/updated` a legacy client receives."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self.arrived = anyio.Event()

    async def on_resource_updated(self, message) -> None:  # type: ignore[override]
        self.uris.append(str(message.params.uri))
        self.arrived.set()


def build_demo_server() -> tuple[FastMCP, ResourceSubscriptions]:
    subscriptions = ResourceSubscriptions()
    server = FastMCP("demo")
    subscriptions.install(server)

    @server.resource("demo://inbox")
    def inbox() -> str:
        return "[]"

    @server.tool
    async def touch(uri: str) -> str:
        await subscriptions.notify(uri)
        return "ok"

    return server, subscriptions


async def legacy_subscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await client.session.subscribe_resource(uri)


async def test_subscriptions_advertise_subscribe_capability_in_both_eras() -> None:
    server, _ = build_demo_server()
    async with Client(server, mode="legacy") as legacy:
        assert legacy.initialize_result.capabilities.resources.subscribe is True
    async with Client(server) as modern:
        assert modern.session.protocol_version == "2026-07-28"
        async with listen(modern.session, resource_subscriptions=["demo://inbox"]) as subscription:
            assert subscription is not None


async def test_notify_reaches_legacy_subscriber_of_that_uri_only() -> None:
    server, subscriptions = build_demo_server()
    recorder = UpdateRecorder()
    async with Client(server, mode="legacy", message_handler=recorder) as client:
        await legacy_subscribe(client, "demo://inbox")
        assert subscriptions.subscribed_uris() == {"demo://inbox"}
        await client.call_tool("touch", {"uri": "demo://other"})
        await client.call_tool("touch", {"uri": "demo://inbox"})
        with anyio.fail_after(5):
            await recorder.arrived.wait()
    assert recorder.uris == ["demo://inbox"]


async def test_notify_reaches_modern_listener_and_forgets_it_after_close() -> None:
    server, subscriptions = build_demo_server()
    async with Client(server) as client:
        async with listen(client.session, resource_subscriptions=["demo://inbox"]) as subscription:
            assert subscriptions.subscribed_uris() == {"demo://inbox"}
            await client.call_tool("touch", {"uri": "demo://other"})
            await client.call_tool("touch", {"uri": "demo://inbox"})
            with anyio.fail_after(5):
                event = await subscription.__anext__()
            assert event.uri == "demo://inbox"
        # The server forgets the listener in its own handler task, which offers no event to await.
        with anyio.fail_after(5):
            while subscriptions.subscribed_uris():  # noqa: ASYNC110
                await anyio.sleep(0.01)


async def test_unsubscribe_stops_legacy_delivery() -> None:
    server, subscriptions = build_demo_server()
    async with Client(server, mode="legacy") as client:
        await legacy_subscribe(client, "demo://inbox")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.session.unsubscribe_resource("demo://inbox")
        assert subscriptions.subscribed_uris() == set()
