"""WorkerPool: stateless workers run side by side; a named worker runs one task at a time and
remembers its past tasks in the context store."""

from __future__ import annotations

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.workers.loop import Worker
from orchestrator.workers.pool import WorkerPool
from tests.support.scripted_llm import Step, scripted_llm_server

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]


async def running(pool: WorkerPool, count: int) -> None:
    with anyio.fail_after(10):
        while len(pool.running) < count:  # noqa: ASYNC110 - the pool offers no event for this
            await anyio.sleep(0.01)


def pool_for(base_url: str, items: ContextItems) -> tuple[WorkerPool, ChatModel]:
    model = ChatModel(LLMConfig(base_url=base_url, max_retries=0, timeout_seconds=10))

    async def no_tool(tool, arguments, said="") -> str:
        raise AssertionError("no tools are offered")

    return WorkerPool(lambda run: Worker(model, [], no_tool), items), model


async def test_named_worker_runs_one_task_at_a_time_and_remembers(connections) -> None:
    items = ContextItems(connections["context"])
    steps = [
        Step(content="Drafted the agenda.", delay=0.5),
        Step(content="Sent nothing; agenda is ready.", delay=0.5),
    ]
    with scripted_llm_server(*steps) as llm:
        pool, model = pool_for(llm.base_url, items)
        answers: list[str] = []

        async def run(task: str) -> None:
            answers.append((await pool.run(task, worker="planner")).answer)

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run, "draft the agenda")
            await running(pool, 1)  # the first task holds the worker
            task_group.start_soon(run, "is the agenda ready?")
        await model.close()
    assert answers == ["Drafted the agenda.", "Sent nothing; agenda is ready."]
    second_prompt = [m["content"] for m in llm.requests[1]["messages"] if m["role"] == "system"]
    assert any("Task: draft the agenda" in text and "Drafted the agenda." in text for text in second_prompt)
    notes = await items.get("memory.worker.planner", "notes")
    assert notes is not None and "is the agenda ready?" in notes.data["notes"]


async def test_stateless_workers_run_side_by_side(connections) -> None:
    items = ContextItems(connections["context"])
    with scripted_llm_server(Step(content="one", delay=1.0), Step(content="two", delay=1.0)) as llm:
        pool, model = pool_for(llm.base_url, items)
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(pool.run, "first")
            task_group.start_soon(pool.run, "second")
            await running(pool, 2)  # both at once: neither waits for the other
        await model.close()
    assert await items.get("memory.worker.stateless", "notes") is None
