"""Event ids: a round trip for awkward UIDs, and a clear refusal of malformed ids."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.calendar.errors import EventNotFoundError
from mcp_servers.calendar.event_ids import EventRef, event_id, parse_event_id


@pytest.mark.parametrize(
    "uid", ["plain@example.com", "with:colon/and slash%", "040000008200E00074C5B7101A82E008"]
)
def test_event_id_round_trips_any_uid(uid: str) -> None:
    moment = datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    text = event_id("work", uid, moment)
    assert "/" not in text and text.count(":") == 2
    assert parse_event_id(text) == EventRef("work", uid, "20260309T090000Z")
    assert parse_event_id(event_id("work", uid)) == EventRef("work", uid, None)


def test_event_id_keeps_an_all_day_recurrence_as_a_date() -> None:
    assert event_id("home", "bday", date(2026, 5, 1)) == "home:bday:20260501"


@pytest.mark.parametrize("text", ["", "nocolon", "a::b", "a:b:c:d"])
def test_parse_event_id_explains_a_malformed_id(text: str) -> None:
    with pytest.raises(EventNotFoundError, match="not an event id"):
        parse_event_id(text)
