"""Snooze and done by reference put cards away from Now (`now.hidden` in a real context store): a
snoozed card comes back when its time is reached (the conversation's clock is pinned and moved), a
done one stays away, and both are on disk, read by a second context-store process."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.hidden import NAMESPACE, is_hidden
from orchestrator.mcp_clients import ServerConnection
from tests.orchestrator.conftest import server_specs
from tests.orchestrator.conversation.test_actions import PINNED, conversation
from tests.orchestrator.conversation.test_waiting_on_me import triaged_mailbox

pytestmark = pytest.mark.anyio

MONDAY_9 = datetime(2026, 3, 16, 9, 0, tzinfo=PINNED.tzinfo)  # PINNED is a Wednesday


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.mark.servers("context")
async def test_snooze_that_until_monday_hides_the_card_until_monday_morning(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    clock = Clock(PINNED)
    talk = conversation(connections, clock=clock)
    assert (await talk.answer("what did Priya send me?")).text.startswith("From Priya:\n1.")
    snoozed = await talk.answer("snooze that until Monday")
    assert snoozed.text == "Snoozed until Mon 16 Mar at 09:00: Lunch"
    [stored] = await items.query([NAMESPACE])
    assert stored.id == "signals.email/p1" and is_hidden(stored.data, PINNED)
    clock.at = MONDAY_9 - timedelta(minutes=1)
    assert "Priya" not in (await talk.answer("who is waiting on me?")).text
    clock.at = MONDAY_9
    assert not is_hidden(stored.data, MONDAY_9)
    assert "Priya" in (await talk.answer("who is waiting on me?")).text


@pytest.mark.servers("context")
async def test_done_with_the_dana_one_hides_it_for_good_and_survives_a_new_store_process(
    connections, tmp_path: Path
) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    talk = conversation(connections)
    assert "Dana" in (await talk.answer("who is waiting on me?")).text
    done = await talk.answer("done with the Dana one")
    assert done.text == "Done, off your Now list: Atlas launch moved"
    later = conversation(connections, clock=lambda: PINNED + timedelta(days=365))
    assert "Dana" not in (await later.answer("who is waiting on me?")).text
    [spec] = [spec for spec in server_specs(tmp_path) if spec.name == "context"]
    second = ServerConnection(spec)  # a second process on the same database file
    async with anyio.create_task_group() as task_group:
        await task_group.start(second.run)
        [stored] = await ContextItems(second).query([NAMESPACE])
        assert (stored.id, stored.data["state"], stored.data["until"]) == ("signals.email/d1", "done", None)
        task_group.cancel_scope.cancel()


@pytest.mark.servers("context")
async def test_a_snooze_with_nothing_to_point_at_or_a_past_time_asks_instead(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    talk = conversation(connections)
    nothing = await talk.answer("snooze that until Monday")
    assert nothing.text.startswith("Nothing is listed yet to point at")
    await talk.answer("who is waiting on me?")
    several = await talk.answer("snooze that until Monday")
    assert several.question and several.text.startswith("Which one do you mean?")
    past = await talk.answer("snooze the first one until 8am today")
    assert past.text == "Say a later time to snooze until, for example: until tomorrow."
    assert await items.query([NAMESPACE]) == []
