"""Two calendar accounts, each its own real calendar server (ICS): the chat's agenda merges them and
names each event's account, its free time is free in both; ingest stores both side by side, each
account's stale events its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest

from orchestrator.accounts.specs import account_server
from orchestrator.config import load_settings
from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from orchestrator.feeds.ingest import CalendarIngest
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "calendar")]
BERLIN = ZoneInfo("Europe/Berlin")
PINNED = datetime(2026, 3, 11, 10, 0, tzinfo=BERLIN)


def ics(*events: tuple[str, datetime, str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//pepper tests//EN"]
    for uid, start, title in events:
        lines += [
            "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"DTEND:{(start + timedelta(minutes=30)).astimezone(UTC):%Y%m%dT%H%M%SZ}", f"SUMMARY:{title}",
            "END:VEVENT",
        ]  # fmt: skip
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


@asynccontextmanager
async def account_connection(tmp_path: Path, table: str, name: str) -> AsyncIterator[ServerConnection]:
    """The server of the account behind connection `name` of config `table`, started as Pepper does."""
    config = tmp_path / "config.toml"
    config.write_text(table)
    server = account_server(load_settings(config, data_dir=tmp_path / "data"), name)
    assert server is not None
    spec = ServerSpec(name=name, command=server.argv(), env={**server.env, "PYTHONPATH": str(REPO_ROOT)})
    connection = ServerConnection(spec)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        yield connection
        task_group.cancel_scope.cancel()


@pytest.fixture
async def family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServerConnection]:
    """The server of `[accounts.family]` (an ICS file), started as Pepper starts it."""
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    (tmp_path / "family.ics").write_text(ics(("play", PINNED.replace(hour=16), "School play")))
    table = f'[accounts.family]\nkind = "ics"\nics = ["{tmp_path / "family.ics"}"]\n'
    async with account_connection(tmp_path, table, "calendar.family") as connection:
        yield connection


async def test_the_agenda_merges_every_calendar_account_and_names_each_events_account(
    connections, family: ServerConnection, tmp_path: Path
) -> None:
    (tmp_path / "calendar" / "work.ics").write_text(ics(("standup", PINNED.replace(hour=11), "Team standup")))
    services = Services({**connections, "calendar.family": family}, ContextItems(connections["context"]))
    answer = (await Conversation(services, lambda: PINNED).answer("what meetings do I have today?")).text
    assert answer.splitlines() == [
        "Meetings today:",
        "- **11:00** Team standup · default",
        "- **16:00** School play · family",
    ]


async def test_ingest_keeps_each_calendar_accounts_events_apart(
    connections, family: ServerConnection, tmp_path: Path
) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    (tmp_path / "calendar" / "work.ics").write_text(ics(("standup", soon, "Team standup")))
    (tmp_path / "family.ics").write_text(ics(("play", soon, "School play")))
    items = ContextItems(connections["context"])
    assert await CalendarIngest(connections["calendar"], items).sync() == 1
    assert await CalendarIngest(family, items, account="family").sync() == 1
    assert await CalendarIngest(connections["calendar"], items).sync() == 0  # the family's event is not stale

    stored = {item.data["title"]: item for item in await items.query(["raw.calendar"])}
    assert stored["School play"].id == f"family:{stored['School play'].data['provider_id']}"
    assert (stored["School play"].data["account"], stored["Team standup"].data["account"]) == (
        "family",
        "default",
    )
    assert not stored["Team standup"].id.startswith("family:")


async def test_free_time_is_free_in_every_calendar_account(
    connections, family: ServerConnection, tmp_path: Path
) -> None:
    tomorrow = PINNED + timedelta(days=1)
    (tmp_path / "calendar" / "work.ics").write_text(ics(("review", tomorrow.replace(hour=14), "Review")))
    (tmp_path / "family.ics").write_text(ics(("pickup", tomorrow.replace(hour=15, minute=15), "Pickup")))
    services = Services({**connections, "calendar.family": family}, ContextItems(connections["context"]))
    conversation = Conversation(services, lambda: PINNED)
    answer = (await conversation.answer("when am I free tomorrow afternoon?")).text
    assert answer.splitlines() == [  # around the default account's review and the family's pickup
        "You are free:",
        "- 12:00–14:00",
        "- 14:30–15:15",
        "- 15:45–18:00",
    ]
