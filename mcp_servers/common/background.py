"""Background services that live as long as a FastMCP server's lifespan.

FastMCP exits a server's lifespan inside a shielded cancel scope of its own, where a task group
entered by the lifespan cannot exit (anyio: "exit a cancel scope that isn't the current task's").
`background` therefore runs the services' task group in one asyncio task of its own, started on
entry and cancelled on the way out; an error while starting them is raised on entry.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from anyio.abc import TaskGroup

__all__ = ["background"]


@contextlib.asynccontextmanager
async def background(start: Callable[[TaskGroup], Awaitable[None]]) -> AsyncIterator[None]:
    """Run what `start` starts in its task group for the duration of the block."""
    ready, failure = anyio.Event(), []

    async def host() -> None:
        try:
            async with anyio.create_task_group() as tasks:
                await start(tasks)
                ready.set()
        except Exception as exc:
            failure.append(exc)
            ready.set()
            raise

    runner = asyncio.get_running_loop().create_task(host())
    await ready.wait()
    if failure:
        raise failure[0]
    try:
        yield
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
