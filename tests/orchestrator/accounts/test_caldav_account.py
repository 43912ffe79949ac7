"""A CalDAV calendar account (a real Radicale) beside the default ICS calendar, each its own real
calendar server: ingest stores the events of both, each naming its account, and the chat's agenda
names the account of every meeting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from orchestrator.feeds.ingest import CalendarIngest
from tests.mcp_servers.calendar.radicale import calendar_of_new_user, running_radicale
from tests.orchestrator.accounts.test_calendars import PINNED, account_connection, ics

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.servers("context", "calendar")]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_radicale(tmp_path_factory.mktemp("radicale")) as url:
        yield url


async def test_a_caldav_account_beside_the_ics_calendar_ingests_and_names_its_account(
    connections, radicale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    (tmp_path / "calendar" / "personal.ics").write_text(
        ics(("standup", soon, "Team standup"), ("lunch", PINNED.replace(hour=12), "Lunch"))
    )
    user, _ = calendar_of_new_user(
        radicale, ics(("client", soon, "Client call")), ics(("board", PINNED.replace(hour=11), "Board"))
    )
    table = (
        f'[accounts.work]\nkind = "caldav"\ncaldav_url = "{radicale}"\ncaldav_username = "{user}"\n'
        'caldav_password = "x"\n'
    )
    async with account_connection(tmp_path, table, "calendar.work") as work:
        items = ContextItems(connections["context"])
        assert await CalendarIngest(connections["calendar"], items).sync() == 1
        assert await CalendarIngest(work, items, account="work").sync() == 1
        stored = {item.data["title"]: item for item in await items.query(["raw.calendar"])}
        call, standup = stored["Client call"], stored["Team standup"]
        assert (call.data["account"], standup.data["account"]) == ("work", "default")
        assert call.id == f"work:{call.data['provider_id']}" == call.data["id"]
        assert standup.id == standup.data["id"] and "provider_id" not in standup.data

        services = Services({**connections, "calendar.work": work}, items)
        answer = (await Conversation(services, lambda: PINNED).answer("what meetings do I have today?")).text
        assert answer.splitlines() == [
            "Meetings today:",
            "- **11:00** Board · work",
            "- **12:00** Lunch · default",
        ]
