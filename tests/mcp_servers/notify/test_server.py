"""The MCP surface over an in-memory client: tools, bad input, resources and inbox subscriptions."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.client.messages import MessageHandler
from fastmcp.exceptions import ToolError
from mcp.client.subscriptions import listen

from mcp_servers.notify.clock import ManualClock
from mcp_servers.notify.server import INBOX_URI, build_server
from mcp_servers.notify.settings import NotifySettings

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.structured_content is not None
    return result.structured_content


async def test_server_lists_tools_with_annotations(settings: NotifySettings, clock: ManualClock) -> None:
    async with Client(build_server(settings, clock)) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == {
        "send_notification", "schedule_reminder", "list_reminders", "cancel_reminder",
        "list_notifications", "mark_read", "snooze", "daily_digest", "send_notifications",
    }  # fmt: skip
    assert tools["list_notifications"].annotations.read_only_hint is True
    assert tools["cancel_reminder"].annotations.destructive_hint is True
    assert "in" in tools["schedule_reminder"].input_schema["properties"]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("send_notification", {"title": "  "}, "title is empty"),
        (
            "send_notification",
            {"title": "t", "body": "x" * 1_048_576},
            "body is 1,048,576 bytes; the limit is 65,536",
        ),
        ("schedule_reminder", {"message": "m", "at": "2026-03-10T11:00:00Z"}, "is in the past"),
        (
            "schedule_reminder",
            {"message": "m", "in": "5m", "timezone": "Atlantis/Capital"},
            "unknown time zone",
        ),
        ("schedule_reminder", {"message": "m", "at": "tomorrow-ish"}, "ISO 8601"),
        ("schedule_reminder", {"message": "m", "at": "2026-04-01T09:00", "in": "5m"}, "either at or in"),
        ("schedule_reminder", {"message": "m"}, "say when"),
        ("schedule_reminder", {"message": "m", "repeat": "now and then"}, "cannot read repeat"),
        ("cancel_reminder", {"reminder_id": "r_missing"}, "no reminder 'r_missing'"),
        ("snooze", {"id": "n_missing", "until": "10m"}, "no notification 'n_missing'"),
        ("snooze", {"id": "n_missing", "until": "2020-01-01T00:00"}, "in the past"),
        ("mark_read", {}, "either ids"),
        ("mark_read", {"ids": ["n_missing"]}, "no notification with id n_missing"),
        ("daily_digest", {"at": "25:00"}, "HH:MM"),
        ("list_notifications", {"since": "a while"}, "cannot read 'a while'"),
    ],
)
async def test_server_refuses_bad_input_with_clear_error(
    settings: NotifySettings, clock: ManualClock, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async with Client(build_server(settings, clock)) as client:
        with pytest.raises(ToolError, match=message):
            await client.call_tool(tool, arguments)


async def test_server_refuses_unknown_priority(settings: NotifySettings, clock: ManualClock) -> None:
    async with Client(build_server(settings, clock)) as client:
        with pytest.raises(ToolError, match="priority"):
            await client.call_tool("send_notification", {"title": "t", "priority": "critical"})


async def test_server_counts_many_concurrent_duplicate_sends_once(
    settings: NotifySettings, clock: ManualClock
) -> None:
    results: list[dict[str, Any]] = []

    async def send(client: Client) -> None:
        results.append(
            await call(client, "send_notification", title="New mail", source="gmail", dedupe_key="msg-1")
        )

    async with Client(build_server(settings, clock)) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(send, client)
        inbox = await call(client, "list_notifications")
    assert [r["deduplicated"] for r in results].count(False) == 1
    assert len(inbox["notifications"]) == 1 and inbox["notifications"][0]["dedupe_count"] == 50


async def test_server_sends_batch_in_one_call_reporting_rate_limited_items(
    db_path, clock: ManualClock
) -> None:
    settings = NotifySettings(db_path=db_path, desktop="off", rate_limit_per_minute=2)
    batch = [
        {"title": "a", "source": "feed"},
        {"title": "b", "source": "feed", "dedupe_key": "same"},
        {"title": "b again", "source": "feed", "dedupe_key": "same"},
        {"title": "c", "source": "feed"},
        {"title": "d", "source": "other", "priority": "urgent"},
    ]
    async with Client(build_server(settings, clock)) as client:
        result = await call(client, "send_notifications", notifications=batch)
        inbox = await call(client, "list_notifications")
        with pytest.raises(ToolError, match="notification 1: title is empty.*; nothing was sent"):
            await client.call_tool("send_notifications", {"notifications": [{"title": "x"}, {"title": ""}]})
        after = await call(client, "list_notifications")
    assert [r and r["deduplicated"] for r in result["results"]] == [False, False, True, None, False]
    assert (
        result["refused"][0]["index"] == 3 and "already sent 2 notifications" in result["refused"][0]["error"]
    )
    assert sorted(n["title"] for n in inbox["notifications"]) == ["a", "b", "d"]
    assert after["notifications"] == inbox["notifications"]


async def test_server_reminder_lifecycle_schedule_list_fire_cancel(
    settings: NotifySettings, clock: ManualClock
) -> None:
    async with Client(build_server(settings, clock)) as client:
        once = await call(client, "schedule_reminder", message="tea", **{"in": "10m"})
        daily = await call(
            client, "schedule_reminder", message="standup", at="2026-03-11T09:30", timezone="Europe/Paris",
            repeat="weekdays",
        )  # fmt: skip
        assert daily["next_fire_at"] == "2026-03-11T08:30:00Z" and daily["repeat"].startswith("FREQ=WEEKLY")
        listed = await call(client, "list_reminders")
        assert [r["id"] for r in listed["reminders"]] == [once["id"], daily["id"]]
        async with listen(client.session, resource_subscriptions=[INBOX_URI]) as updates:
            clock.advance(timedelta(minutes=10))
            with anyio.fail_after(5):
                await updates.__anext__()
        fired = (await call(client, "list_notifications"))["notifications"]
        assert [(n["title"], n["reminder_id"]) for n in fired] == [("tea", once["id"])]
        cancelled = await call(client, "cancel_reminder", reminder_id=daily["id"])
        assert cancelled["status"] == "cancelled"
        left = await call(client, "list_reminders", include_finished=True)
    assert {r["id"]: r["status"] for r in left["reminders"]} == {once["id"]: "done", daily["id"]: "cancelled"}


async def test_server_mark_read_snooze_and_since(settings: NotifySettings, clock: ManualClock) -> None:
    async with Client(build_server(settings, clock)) as client:
        first = (await call(client, "send_notification", title="one"))["notification"]
        clock.advance(timedelta(hours=2))
        second = (await call(client, "send_notification", title="two"))["notification"]
        recent = await call(client, "list_notifications", since="1h")
        assert [n["id"] for n in recent["notifications"]] == [second["id"]]
        assert (await call(client, "mark_read", ids=[first["id"]]))["marked"] == 1
        unread = await call(client, "list_notifications", unread_only=True)
        assert [n["id"] for n in unread["notifications"]] == [second["id"]]
        snoozed = await call(client, "snooze", id=second["id"], until="30m")
        assert snoozed["notification"]["deliver_at"] == "2026-03-10T14:30:00Z"
        hidden = await call(client, "list_notifications")
        assert (hidden["unread"], hidden["held"]) == (0, 1)
        clock.advance(timedelta(minutes=31))
        back = await call(client, "list_notifications", unread_only=True)
        assert [n["id"] for n in back["notifications"]] == [second["id"]]
        assert (await call(client, "mark_read", all=True))["marked"] == 1


async def test_server_daily_digest_schedules_and_sends_now(
    settings: NotifySettings, clock: ManualClock
) -> None:
    async with Client(build_server(settings, clock)) as client:
        await call(client, "send_notification", title="unread thing")
        result = await call(client, "daily_digest", at="08:30", timezone="Europe/Paris", send_now=True)
        replaced = await call(client, "daily_digest", at="07:00")
        reminders = await call(client, "list_reminders")
    assert result["schedule"]["reminder"]["next_fire_at"] == "2026-03-11T07:30:00Z"
    assert result["schedule"]["channels"] == ["inbox"]
    assert result["sent_now"]["title"] == "Digest: 1 unread notification"
    assert [r["id"] for r in reminders["reminders"]] == [replaced["schedule"]["reminder"]["id"]]


async def test_server_resources_show_inbox_and_each_notification(
    settings: NotifySettings, clock: ManualClock
) -> None:
    async with Client(build_server(settings, clock)) as client:
        sent = (await call(client, "send_notification", title="hello", body="world"))["notification"]
        inbox = json.loads((await client.read_resource(INBOX_URI))[0].text)
        one = json.loads((await client.read_resource(f"notify://notification/{sent['id']}"))[0].text)
    assert inbox["unread"] == 1 and inbox["notifications"][0]["id"] == sent["id"]
    assert one["body"] == "world" and one["deliveries"][0]["channel"] == "inbox"


class UpdateRecorder(MessageHandler):
    def __init__(self) -> None:
        self.uris: list[str] = []
        self.arrived = anyio.Event()

    async def on_resource_updated(self, message) -> None:  # type: ignore[no-untyped-def,override]
        self.uris.append(str(message.params.uri))
        self.arrived.set()


async def test_inbox_subscription_notifies_legacy_client(
    settings: NotifySettings, clock: ManualClock
) -> None:
    recorder = UpdateRecorder()
    async with Client(build_server(settings, clock), mode="legacy", message_handler=recorder) as client:
        assert client.initialize_result.capabilities.resources.subscribe is True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.session.subscribe_resource(INBOX_URI)
        await call(client, "send_notification", title="ping")
        with anyio.fail_after(5):
            await recorder.arrived.wait()
    assert recorder.uris == [INBOX_URI]


async def test_inbox_subscription_notifies_modern_listener_when_held_notification_arrives(
    db_path, clock: ManualClock
) -> None:
    settings = NotifySettings(
        db_path=db_path, desktop="off", quiet_hours_start="11:00", quiet_hours_end="13:00"
    )
    async with Client(build_server(settings, clock)) as client:
        async with listen(client.session, resource_subscriptions=[INBOX_URI]) as updates:
            held = await call(client, "send_notification", title="later", priority="low")
            assert held["held_until"] == "2026-03-10T13:00:00Z"
            clock.set(datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
            with anyio.fail_after(5):
                event = await updates.__anext__()
    assert event.uri == INBOX_URI


async def test_server_snooze_postpones_a_reminder(settings: NotifySettings, clock: ManualClock) -> None:
    async with Client(build_server(settings, clock)) as client:
        reminder = await call(client, "schedule_reminder", message="call back", **{"in": "10m"})
        snoozed = await call(client, "snooze", id=reminder["id"], until="1h")
        assert snoozed["reminder"]["next_fire_at"] == "2026-03-10T13:00:00Z"
        clock.advance(timedelta(minutes=30))
        assert (await call(client, "list_notifications"))["notifications"] == []
        async with listen(client.session, resource_subscriptions=[INBOX_URI]) as updates:
            clock.advance(timedelta(minutes=30))
            with anyio.fail_after(5):
                await updates.__anext__()
        [fired] = (await call(client, "list_notifications"))["notifications"]
    assert fired["reminder_id"] == reminder["id"] and fired["late"] is False


async def test_mark_read_and_snooze_update_inbox_followers(
    settings: NotifySettings, clock: ManualClock
) -> None:
    async with Client(build_server(settings, clock)) as client:
        sent = (await call(client, "send_notification", title="one"))["notification"]
        async with listen(client.session, resource_subscriptions=[INBOX_URI]) as updates:
            await call(client, "mark_read", ids=[sent["id"]])
            with anyio.fail_after(5):
                assert (await updates.__anext__()).uri == INBOX_URI
            await call(client, "snooze", id=sent["id"], until="1h")
            with anyio.fail_after(5):
                assert (await updates.__anext__()).uri == INBOX_URI
            await call(client, "mark_read", all=True)
            with anyio.fail_after(5):
                assert (await updates.__anext__()).uri == INBOX_URI
