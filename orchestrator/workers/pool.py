"""Running delegated tasks: stateless workers end with their answer; a named (stateful) worker keeps
notes of its past tasks in `memory.worker.<name>` and runs one task at a time. `make_worker(name,
task, remembers)` builds the worker of one run; `remembers` says its prompt carries earlier notes
(which count as read content for the trust boundary)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import anyio

from orchestrator.context_items import ContextItems
from orchestrator.workers.loop import Worker, WorkerResult

__all__ = ["WorkerPool"]

MEMORY_CHARS = 4000


class WorkerPool:
    """Starts workers for delegated tasks, bounded by `limit` at once."""

    def __init__(
        self, make_worker: Callable[[str, str, bool], Worker], items: ContextItems, limit: int = 4
    ) -> None:
        self._make_worker = make_worker
        self._items = items
        self._limiter = anyio.CapacityLimiter(limit)
        self._locks: dict[str, anyio.Lock] = {}
        self.running: dict[str, str] = {}
        self._runs = itertools.count(1)

    async def run(self, task: str, worker: str | None = None) -> WorkerResult:
        async with self._limiter:
            if worker is None:
                return await self._run_once("stateless", task, "")
            async with self._locks.setdefault(worker, anyio.Lock()):
                memory = await self._recall(worker)
                result = await self._run_once(worker, task, memory)
                await self._remember(worker, memory, task, result)
                return result

    async def _run_once(self, name: str, task: str, memory: str) -> WorkerResult:
        key = f"{name}:{next(self._runs)}"
        self.running[key] = task
        try:
            return await self._make_worker(name, task, bool(memory)).run(task, memory)
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
