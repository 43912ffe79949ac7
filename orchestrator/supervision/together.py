"""`together(*calls)`: several awaitables run at once, their results in order, and a failure raised
as itself.

A task group raises what fails inside it as an `ExceptionGroup`, which callers written for one
call at a time (`except ServerUnavailable:`) would not catch. Here every call runs to its end and
the first failure, in the order the calls were given, is raised as it is: as if they had been
awaited one after another, only sooner (reads of a busy server answered side by side).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

__all__ = ["together"]


async def together(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """The results of `calls`, run at once, in the order given; the first failure raised as itself."""
    results: list[Any] = [None] * len(calls)
    failures: list[tuple[int, Exception]] = []

    async def run(n: int, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[n] = await call()
        except Exception as exc:  # raised below, once every call has ended
            failures.append((n, exc))

    async with anyio.create_task_group() as group:
        for n, call in enumerate(calls):
            group.start_soon(run, n, call)
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
    return results
