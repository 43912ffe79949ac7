"""A stateless custom worker runs up to its `concurrency` tasks at once, and a task past its
`timeout_seconds` is stopped with an answer that says so."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.extensions.config import WorkerConfig
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.workers.loop import Worker
from orchestrator.workers.pool import WorkerPool, WorkerRun
from tests.support.scripted_llm import Step, scripted_llm_server

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


async def running(pool: WorkerPool, count: int) -> None:
    with anyio.fail_after(10):
        while len(pool.running) < count:  # noqa: ASYNC110 - the pool offers no event for this
            await anyio.sleep(0.01)


def pool_for(base_url: str, items: ContextItems, config: WorkerConfig, runs: list[WorkerRun]):
    model = ChatModel(LLMConfig(base_url=base_url, max_retries=0, timeout_seconds=10))

    async def no_tool(tool, arguments, said="") -> str:
        raise AssertionError("no tools are offered")

    def make(run: WorkerRun) -> Worker:
        runs.append(run)
        return Worker(model, [], no_tool, instructions=run.config.instructions if run.config else "")

    return WorkerPool(make, items, custom={"clerk": config}), model


async def test_stateless_custom_worker_runs_up_to_its_concurrency_at_once(connections) -> None:
    items = ContextItems(connections["context"])
    config = WorkerConfig(description="files", stateful=False, concurrency=2)
    runs: list[WorkerRun] = []
    steps = [Step(content=f"filed {n}", delay=1.5) for n in range(3)]
    with scripted_llm_server(*steps) as llm:
        pool, model = pool_for(llm.base_url, items, config, runs)
        async with anyio.create_task_group() as task_group:
            for n in range(3):
                task_group.start_soon(pool.run, f"file {n}", "clerk")
            await running(pool, 2)
            assert len(pool.running) == 2  # the third waits for a free slot
        await model.close()
    assert sorted(run.task for run in runs) == ["file 0", "file 1", "file 2"]
    assert all(run.config is config and run.name == "clerk" for run in runs)
    assert await items.get("memory.worker.clerk", "notes") is None


async def test_custom_worker_past_its_timeout_is_stopped_with_an_answer_that_says_so(connections) -> None:
    items = ContextItems(connections["context"])
    config = WorkerConfig(description="files", stateful=True, timeout_seconds=0.5)
    with scripted_llm_server(Step(content="too late", delay=3.0)) as llm:
        pool, model = pool_for(llm.base_url, items, config, [])
        result = await pool.run("file everything", "clerk")
        await model.close()
    assert result.finished is False
    assert result.answer == "The clerk worker was stopped: the task was still running after 0.5 s."
    notes = await items.get("memory.worker.clerk", "notes")
    assert notes is not None and "was stopped" in notes.data["notes"]
