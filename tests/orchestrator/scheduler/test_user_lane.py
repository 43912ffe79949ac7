"""The user's lane: background work waits while a user message is being answered."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.scheduler.user_lane import UserLane

pytestmark = pytest.mark.anyio


async def test_background_work_waits_until_the_users_message_is_answered() -> None:
    lane, order = UserLane(), []
    answering, answered = anyio.Event(), anyio.Event()

    async def user() -> None:
        async with lane.serving():
            answering.set()
            await answered.wait()
            order.append("answer")

    async def background() -> None:
        await answering.wait()
        await lane.yield_to_user()
        order.append("ingest page")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(user)
            group.start_soon(background)
            await answering.wait()
            await anyio.wait_all_tasks_blocked()
            assert order == []  # the page waits for the answer
            answered.set()
    assert order == ["answer", "ingest page"] and lane.yields == 1


async def test_yield_to_user_returns_at_once_when_idle_and_gives_up_after_its_patience() -> None:
    lane = UserLane(patience=0.05)
    with anyio.fail_after(1):
        await lane.yield_to_user()
        assert lane.yields == 0
        async with lane.serving():
            await lane.yield_to_user()  # a stuck answer does not stop the background for good
    assert lane.yields == 1 and lane.active == 0
