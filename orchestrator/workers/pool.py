"""Running delegated tasks: stateless workers end with their answer; a named (stateful) worker keeps
notes of its past tasks in `memory.worker.<name>` and runs one task at a time. `make_worker(run)`
builds the worker of one `WorkerRun`: its name, task, whether its prompt carries earlier notes (read
content, for the trust boundary) and the origin of the task (the scheduler step's user messages and
signals), which pending actions show as their provenance. A custom worker (`[workers.NAME]` in the
config) runs by its own table: stateful (its notes, one task at a time) or stateless with its own
concurrency, each task under its timeout; `make_worker` gives it its instructions and tool allowlist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.extensions.config import WorkerConfig
from orchestrator.workers.loop import Worker, WorkerResult

__all__ = ["WorkerPool", "WorkerRun"]

MEMORY_CHARS = 4000


@dataclass(frozen=True)
class WorkerRun:
    name: str
    task: str
    remembers: bool = False
    origin: dict[str, Any] = field(default_factory=dict)
    config: WorkerConfig | None = None  # a custom worker's table; None for Pepper's generic workers


class WorkerPool:
    """Starts workers for delegated tasks, bounded by `limit` at once."""

    def __init__(
        self,
        make_worker: Callable[[WorkerRun], Worker],
        items: ContextItems,
        limit: int = 4,
        custom: dict[str, WorkerConfig] | None = None,
    ) -> None:
        self._make_worker = make_worker
        self._items = items
        self._limiter = anyio.CapacityLimiter(limit)
        self.custom = custom or {}
        self._locks: dict[str, anyio.Lock] = {}
        self._own_limits = {
            name: anyio.CapacityLimiter(config.concurrency)
            for name, config in self.custom.items()
            if not config.stateful
        }
        self.running: dict[str, str] = {}
        self._runs = itertools.count(1)

    async def run(
        self, task: str, worker: str | None = None, origin: dict[str, Any] | None = None
    ) -> WorkerResult:
        config = self.custom.get(worker or "")
        if config is not None and not config.stateful:
            async with self._own_limits[worker or ""], self._limiter:
                return await self._run_once(WorkerRun(worker or "", task, False, origin or {}, config), "")
        async with self._limiter:
            if worker is None:
                return await self._run_once(WorkerRun("stateless", task, False, origin or {}), "")
            async with self._locks.setdefault(worker, anyio.Lock()):
                memory = await self._recall(worker)
                run = WorkerRun(worker, task, bool(memory), origin or {}, config)
                result = await self._run_once(run, memory)
                await self._remember(worker, memory, task, result)
                return result

    async def _run_once(self, run: WorkerRun, memory: str) -> WorkerResult:
        key = f"{run.name}:{next(self._runs)}"
        self.running[key] = run.task
        timeout = run.config.timeout_seconds if run.config else None
        try:
            with anyio.move_on_after(timeout):
                return await self._make_worker(run).run(run.task, memory)
            return WorkerResult(
                answer=f"The {run.name} worker was stopped: the task was still running after {timeout:g} s.",
                turns=0,
                finished=False,
            )
        finally:
            self.running.pop(key, None)

    async def _recall(self, worker: str) -> str:
        item = await self._items.get(f"memory.worker.{worker}", "notes")
        if item is None or not isinstance(item.data, dict):
            return ""
        return str(item.data.get("notes", ""))

    async def _remember(self, worker: str, memory: str, task: str, result: WorkerResult) -> None:
        notes = f"{memory}\n- Task: {task}\n  Answer: {result.answer}".strip()[-MEMORY_CHARS:]
        await self._items.put(f"memory.worker.{worker}", "notes", {"notes": notes}, notes)
