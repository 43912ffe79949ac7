"""`together`: calls at once, results in order, the first failure raised as itself."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.mcp_clients import ServerUnavailable
from orchestrator.supervision.together import together


@pytest.mark.anyio
async def test_the_calls_run_at_once_and_their_results_come_in_order() -> None:
    started: list[str] = []
    both_started = anyio.Event()

    async def call(name: str) -> str:
        started.append(name)
        if len(started) == 2:
            both_started.set()
        with anyio.fail_after(5):  # one after another, the first would wait here for ever
            await both_started.wait()
        return name.upper()

    assert await together(lambda: call("a"), lambda: call("b")) == ["A", "B"]


@pytest.mark.anyio
async def test_the_first_failure_in_the_calls_order_is_raised_as_itself_after_all_ended() -> None:
    ended: list[str] = []

    async def fail(message: str, delay: float) -> None:
        await anyio.sleep(delay)
        ended.append(message)
        raise ServerUnavailable(message)

    async def slow() -> str:
        await anyio.sleep(0.05)
        ended.append("slow")
        return "done"

    with pytest.raises(ServerUnavailable, match="^first$"):  # not an ExceptionGroup
        await together(lambda: fail("first", 0.02), lambda: fail("second", 0), slow)
    assert sorted(ended) == ["first", "second", "slow"]
