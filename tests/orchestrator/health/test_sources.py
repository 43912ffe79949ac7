"""Source health over a real context store and notify server, on a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.health.sources import HealthBook, SourceHealth, SourceState
from orchestrator.mcp_clients import ServerConnection, ServerUnavailable
from orchestrator.remote import _status_lines

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0  # a fixed moment; the real one never matters here
WEEK = 7 * 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _announcer(notify: ServerConnection):  # type: ignore[no-untyped-def]
    async def announce(title: str, body: str, dedupe_key: str) -> None:
        arguments = {"title": title, "body": body, "source": "pepper", "dedupe_key": dedupe_key}
        await notify.call_tool("send_notification", arguments)

    return announce


async def _inbox(notify: ServerConnection) -> list[dict[str, Any]]:
    listed = await notify.call_tool("list_notifications", {"limit": 50})
    return (listed.structured or {})["notifications"]


async def _ok() -> int:
    return 3


async def _down() -> int:
    raise ServerUnavailable("IMAP login failed: AUTHENTICATIONFAILED")


@pytest.mark.servers("context")
async def test_a_source_is_ok_then_late_then_failing_as_time_passes(
    connections: dict[str, ServerConnection],
) -> None:
    clock = Clock()
    book = HealthBook(ContextItems(connections["context"]), clock)
    mail = book.add("mail", interval=60, alert_after=900)
    assert mail.state(clock.now)[0] is SourceState.STARTING

    await book.record("mail", _ok)
    clock.now += 30
    assert mail.state(clock.now) == (SourceState.OK, "synced 30 s ago")
    clock.now += 200  # 230 s without a sync: more than twice the interval and a minute
    assert mail.state(clock.now) == (SourceState.LATE, "no sync for 4 min")

    with pytest.raises(ServerUnavailable):
        await book.record("mail", _down)
    clock.now += 900
    state, reason = mail.state(clock.now)
    assert state is SourceState.FAILING
    assert reason == "failing for 15 min: IMAP login failed: AUTHENTICATIONFAILED"


@pytest.mark.servers("context", "notify")
async def test_one_alert_when_a_source_stops_and_one_when_it_is_back(
    connections: dict[str, ServerConnection],
) -> None:
    clock = Clock()
    book = HealthBook(ContextItems(connections["context"]), clock)
    book.add("mail", interval=60, alert_after=900)
    announce = _announcer(connections["notify"])
    await book.record("mail", _ok)
    with pytest.raises(ServerUnavailable):
        await book.record("mail", _down)

    for _ in range(3):  # the watch looks every 30 s: an outage is told once
        clock.now += 600
        await book.check(announce)
    stopped = await _inbox(connections["notify"])
    await book.record("mail", _ok)
    for _ in range(2):
        await book.check(announce)
    inbox = await _inbox(connections["notify"])

    assert [n["title"] for n in stopped] == ["Pepper stopped receiving mail"]
    assert "AUTHENTICATIONFAILED" in stopped[0]["body"] and "pepper-orchestrator doctor" in stopped[0]["body"]
    assert [n["title"] for n in inbox] == ["Pepper receives mail again", "Pepper stopped receiving mail"]


@pytest.mark.servers("context")
async def test_after_a_week_stopped_the_first_sync_says_how_far_behind_it_was(
    connections: dict[str, ServerConnection],
) -> None:
    clock = Clock()
    items = ContextItems(connections["context"])
    before = HealthBook(items, clock)
    before.add("mail", interval=60, alert_after=900)
    await before.record("mail", _ok)

    clock.now += WEEK  # Pepper was off (a laptop asleep) for a week
    after = HealthBook(items, clock)
    after.add("mail", interval=60, alert_after=900)
    await after.restore()
    await after.record("mail", _ok)
    [source] = after.snapshot()

    assert source["behind_seconds"] == WEEK
    assert source["caught_up_at"] == clock.now
    status = {"mode": "rules", "model": None, "servers": [], "sources": [source]}
    line = _status_lines(status)[-1]
    assert line.startswith("source mail: ok (synced 0 s ago), 168 h behind after the last stop, caught up ")


@pytest.mark.servers("context")
async def test_the_last_success_is_saved_at_most_every_few_minutes_and_when_pepper_stops(
    connections: dict[str, ServerConnection],
) -> None:
    clock = Clock()
    context = connections["context"]
    book = HealthBook(ContextItems(context), clock)
    book.add("mail", interval=60, alert_after=900)
    stores = context.calls["store"]
    for _ in range(5):  # a first sync: many syncs a minute
        await book.record("mail", _ok)
        clock.now += 10
    assert context.calls["store"] - stores == 1  # the first, at once
    await book.flush()  # Pepper stops
    saved = await ContextItems(context).get("state.health", "mail")
    assert saved is not None and saved.data["last_success"] == T0 + 40
    await book.flush()
    assert context.calls["store"] - stores == 2  # nothing new to save


@pytest.mark.servers("context")
async def test_a_long_first_sync_is_starting_not_late(connections: dict[str, ServerConnection]) -> None:
    clock = Clock()
    book = HealthBook(ContextItems(connections["context"]), clock)
    mail = book.add("mail", interval=60, alert_after=900)
    seen: list[tuple[SourceState, str]] = []

    async def first_sync_of_a_big_mailbox() -> int:
        clock.now += 600  # ten minutes of pages
        seen.append(mail.state(clock.now))
        return 20_000

    await book.record("mail", first_sync_of_a_big_mailbox)

    assert seen == [(SourceState.STARTING, "first sync running for 10 min")]
    assert mail.state(clock.now) == (SourceState.OK, "synced 0 s ago")


def test_the_lag_is_the_servers_newest_message_against_the_newest_stored() -> None:
    stored = T0 - 3 * 3600
    mail = SourceHealth("mail", 60, 900, position=lambda: ("j1:42", stored))
    mail.account = {"provider": "imap", "account": "ada", "state": "ok", "checked_at": T0,
                    "newest_message_at": T0 - 600}  # fmt: skip
    snapshot = mail.snapshot(T0)
    assert snapshot["cursor"] == "j1:42" and snapshot["newest_at"] == stored
    assert snapshot["lag_seconds"] == 3 * 3600 - 600
    assert snapshot["details"][-1].endswith("3 h behind the server's newest; cursor j1:42")
