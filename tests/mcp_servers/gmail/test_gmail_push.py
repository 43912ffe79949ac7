"""Gmail push: users.watch registered and renewed on the emulator, and a Pub/Sub push to
/gmail/push (through the server's HTTP app) syncing at once, long before the next poll."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import anyio
import httpx
import pytest
from fastmcp import Client
from mcp.client.subscriptions import listen
from pydantic import SecretStr

from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.gmail.gmail_api import GmailApiProvider
from mcp_servers.gmail.gmail_push import PushError, PushNotice, parse_push
from mcp_servers.gmail.server import INBOX_URI, build_server, watch_inbox
from mcp_servers.gmail.settings import GmailSettings

from .gmail_emulator import GmailEmulator
from .messages import plain_message

pytestmark = pytest.mark.anyio
TOPIC = "projects/pepper-test/topics/gmail"


def push_body(history_id: int, email: str = "me@example.org") -> bytes:
    data = base64.b64encode(json.dumps({"emailAddress": email, "historyId": history_id}).encode()).decode()
    return json.dumps(
        {"message": {"data": data, "messageId": "1"}, "subscription": "projects/p/subscriptions/s"}
    ).encode()


@pytest.fixture
def settings(emulator: GmailEmulator, tmp_path: Path) -> GmailSettings:
    return emulator.settings(tmp_path / "state", poll_seconds=3600, gmail_pubsub_topic=TOPIC,
                             gmail_push_token=SecretStr("push-secret"))  # fmt: skip


def test_parse_push_reads_the_pubsub_envelope() -> None:
    assert parse_push(push_body(1234)) == PushNotice("me@example.org", 1234)


@pytest.mark.parametrize(
    "body", [b"not json", b'{"message": {}}', b'{"message": {"data": "!!!"}}', json.dumps(
        {"message": {"data": base64.b64encode(b'{"historyId": "x"}').decode()}}).encode()],
)  # fmt: skip
def test_parse_push_refuses_anything_else(body: bytes) -> None:
    with pytest.raises(PushError, match="expected a Pub/Sub push"):
        parse_push(body)


async def _wait(emulator: GmailEmulator, predicate) -> None:  # type: ignore[no-untyped-def]
    assert await anyio.to_thread.run_sync(emulator.wait_until, predicate, 10)


async def test_push_syncs_at_once_and_the_watch_is_registered_and_stopped(
    emulator: GmailEmulator, settings: GmailSettings
) -> None:
    subscriptions = ResourceSubscriptions()
    provider = GmailApiProvider(settings)
    server = build_server(settings, provider, subscriptions)
    await provider.open()
    app = server.http_app()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
    try:
        async with anyio.create_task_group() as group:
            await group.start(watch_inbox, provider, subscriptions)
            assert emulator.mailbox.watches == [{"topicName": TOPIC}]
            async with Client(server) as client:
                start = (await client.call_tool("list_changes", {})).structured_content["cursor"]
                async with listen(client.session, resource_subscriptions=[INBOX_URI]) as updates:
                    emulator.deliver(plain_message(subject="pushed"))
                    wrong = await http.post("/gmail/push?token=nope", content=push_body(2000))
                    assert wrong.status_code == 401
                    bad = await http.post("/gmail/push?token=push-secret", content=b"{}")
                    assert bad.status_code == 400 and "expected a Pub/Sub push" in bad.json()["error"]
                    pushed = await http.post(
                        "/gmail/push", content=push_body(2000), headers={"X-Pepper-Push-Token": "push-secret"}
                    )
                    assert pushed.status_code == 204
                    with anyio.fail_after(10):  # the poll is an hour away: only the push explains it
                        event = await updates.__anext__()
                page = (await client.call_tool("list_changes", {"since": start})).structured_content
            group.cancel_scope.cancel()
        await _wait(emulator, lambda box: box.stops == 1)
    finally:
        await http.aclose()
        await provider.aclose()
    assert event.uri == INBOX_URI
    assert [c["kind"] for c in page["changes"]] == ["added"]


async def test_watch_is_renewed_before_it_expires(emulator: GmailEmulator, settings: GmailSettings) -> None:
    emulator.mailbox.watch_seconds = 0.5  # renewed halfway: a real 7-day watch is renewed daily
    provider = GmailApiProvider(settings)
    await provider.open()

    async def changed() -> None:
        pass

    try:
        async with anyio.create_task_group() as group:
            await group.start(provider.watch, changed)
            await _wait(emulator, lambda box: len(box.watches) >= 3)
            group.cancel_scope.cancel()
    finally:
        await provider.aclose()


async def test_push_route_needs_a_push_token(settings: GmailSettings) -> None:
    provider = GmailApiProvider(settings.model_copy(update={"gmail_push_token": None}))
    server = build_server(settings.model_copy(update={"gmail_push_token": None}), provider)
    transport = httpx.ASGITransport(app=server.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.post("/gmail/push?token=anything", content=push_body(1))
    assert response.status_code == 404


def test_topic_without_push_token_fails_fast(settings: GmailSettings) -> None:
    from mcp_servers.gmail.providers import make_provider

    with pytest.raises(SystemExit, match="needs PEPPER_GMAIL_GMAIL_PUSH_TOKEN"):
        make_provider(settings.model_copy(update={"gmail_push_token": None}))


@pytest.mark.slow
async def test_push_over_real_http_to_the_child_process_syncs_history(
    emulator: GmailEmulator, settings: GmailSettings
) -> None:
    from tests.support.processes import http_server

    env = {"PEPPER_GMAIL_PROVIDER": "gmail", "PEPPER_GMAIL_STATE_DIR": str(settings.state_dir),
           "PEPPER_GMAIL_GMAIL_API_ENDPOINT": emulator.url, "PEPPER_GMAIL_GMAIL_TOKEN_URI": f"{emulator.url}token",
           "PEPPER_GMAIL_POLL_SECONDS": "3600", "PEPPER_GMAIL_GMAIL_PUBSUB_TOPIC": TOPIC,
           "PEPPER_GMAIL_GMAIL_PUSH_TOKEN": "push-secret", "PEPPER_GMAIL_TOKEN": "transport-secret"}  # fmt: skip
    with http_server("mcp_servers.gmail", [], env) as url:
        await _wait(emulator, lambda box: box.watches == [{"topicName": TOPIC}])
        synced = emulator.mailbox.calls.count("GET history")
        emulator.deliver(plain_message(subject="pushed"))
        async with httpx.AsyncClient() as http:
            pushed = await http.post(
                url.replace("/mcp", "/gmail/push?token=push-secret"), content=push_body(2000)
            )
            # The transport's bearer token guards MCP; the push route checks its own token instead.
            refused = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert pushed.status_code == 204
        assert refused.status_code == 401
        await _wait(emulator, lambda box: box.calls.count("GET history") > synced)
