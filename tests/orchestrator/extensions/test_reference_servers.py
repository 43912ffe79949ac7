"""Third-party reference MCP servers (PyPI, each in a venv of its own), added through the config: a
worker's read calls run, its write calls wait for approval, and their descriptions reach the model
fenced as data. The model is the scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.config import load_settings
from orchestrator.context_items import ContextItems
from orchestrator.extensions.servers import connect
from orchestrator.extensions.tool_trust import ToolClasses
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.mcp_clients import ServerConnection
from orchestrator.trust.actions import ContextActionStore, PendingAction, Signer
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.gate import GatedToolRunner
from orchestrator.workers.loop import Worker, WorkerResult
from orchestrator.workers.toolbox import Toolbox
from tests.support.reference_servers import reference_server
from tests.support.scripted_llm import Step, scripted_llm_server, tool_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context"), pytest.mark.timeout(180)]

SIGNER = Signer(b"test-key-" * 4)


def expenses_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE expenses (item TEXT, amount REAL)")
        db.executemany("INSERT INTO expenses VALUES (?, ?)", [("train", 42.5), ("hotel", 120.0)])
    return path


def config(tmp_path: Path, db: Path, time_table: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[servers.sqlite]
command = "{reference_server("sqlite", "mcp-server-sqlite")}"
args = ["--db-path", "{db}"]
read_tools = ["read_*", "list_*", "describe_*"]
[servers.time]
command = "{reference_server("time", "mcp-server-time")}"
{time_table}
"""
    )
    return path


def rows(db: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT item, amount FROM expenses ORDER BY amount").fetchall()


@dataclass
class Run:
    requests: list[dict[str, Any]]
    result: WorkerResult
    pending: list[PendingAction]
    approved: list[PendingAction]


async def run_worker(
    context: ServerConnection, config_file: Path, steps: list[Step], task: str, tainted: bool = False
) -> Run:
    """Connect the config's added servers, run one worker task, then approve whatever it queued.
    `tainted`: the run starts having read mail (its prompt carries it), as a stateful worker's may."""
    settings = load_settings(config_file, data_dir=config_file.parent)
    added = {name: connect(settings, name) for name in settings.added_servers()}
    toolbox = Toolbox(added)
    async with anyio.create_task_group() as task_group:
        for connection in added.values():
            await task_group.start(connection.run)
        await toolbox.load()
        store = ContextActionStore(ContextItems(context), SIGNER)
        desk = ApprovalDesk(store, toolbox.call, toolbox.tools)
        classes = ToolClasses(settings.servers, settings.tool_classes, toolbox.tools)
        with scripted_llm_server(*steps) as llm:
            model = ChatModel(
                LLMConfig(base_url=llm.base_url, model="scripted", timeout_seconds=10, max_retries=0)
            )
            runner = GatedToolRunner(toolbox.call, desk, "data", extra=classes, tainted=tainted)
            worker = Worker(model, list(toolbox.tools.values()), runner, fenced=list(added))
            result = await worker.run(task)
            await model.close()
        pending = await store.pending()
        approved = [await desk.approve(action.id) for action in pending]
        task_group.cancel_scope.cancel()
    return Run(llm.requests, result, pending, approved)


def tool_outputs(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_sqlite_reads_run_and_writes_wait_for_approval(connections, tmp_path: Path) -> None:
    db = expenses_db(tmp_path / "expenses.db")
    steps = [
        Step(
            tool_calls=[
                ("sqlite__list_tables", "{}"),
                ("sqlite__read_query", tool_arguments(query="SELECT SUM(amount) AS total FROM expenses")),
                ("time__get_current_time", tool_arguments(timezone="UTC")),
            ]
        ),
        Step(
            tool_calls=[
                ("sqlite__write_query", tool_arguments(query="INSERT INTO expenses VALUES ('taxi', 18.0)")),
            ]
        ),
        Step(content="You spent 162.5; the taxi waits for your approval."),
    ]
    run = await run_worker(
        connections["context"],
        config(tmp_path, db, "trust_annotations = true"),
        steps,
        "How much did I spend?",
    )
    listed, total, now = tool_outputs(run.requests[1])
    assert "expenses" in listed and "162.5" in total and '"timezone": "UTC"' in now
    [queued] = tool_outputs(run.requests[2])[-1:]
    assert "Queued for the user's approval" in queued and "NOT been done" in queued
    assert run.result.answer.startswith("You spent 162.5")
    assert [(a.server, a.tool) for a in run.pending] == [("sqlite", "write_query")]
    assert "not classified" in run.pending[0].reason
    assert [a.status for a in run.approved] == ["done"]
    assert rows(db) == [("taxi", 18.0), ("train", 42.5), ("hotel", 120.0)]


async def test_added_server_tools_wait_for_approval_without_a_config_that_trusts_them(
    connections, tmp_path: Path
) -> None:
    db = expenses_db(tmp_path / "expenses.db")
    steps = [
        Step(tool_calls=[("time__get_current_time", tool_arguments(timezone="UTC"))]),
        Step(content="Waiting for approval."),
    ]
    run = await run_worker(connections["context"], config(tmp_path, db, ""), steps, "Time?")
    assert "Queued for the user's approval" in tool_outputs(run.requests[1])[0]
    assert [(a.server, a.tool, a.arguments) for a in run.pending] == [
        ("time", "get_current_time", {"timezone": "UTC"})
    ]


async def test_descriptions_of_added_servers_reach_the_model_fenced_as_data(
    connections, tmp_path: Path
) -> None:
    db = expenses_db(tmp_path / "expenses.db")
    run = await run_worker(
        connections["context"], config(tmp_path, db, ""), [Step(content="ok")], "Nothing to do"
    )
    offered = {tool["function"]["name"]: tool["function"] for tool in run.requests[0]["tools"]}
    assert {"sqlite__read_query", "sqlite__write_query", "time__convert_time"} <= set(offered)
    description = offered["sqlite__read_query"]["description"]
    assert (
        description
        == '<tool_description server="sqlite">Execute a SELECT query on the SQLite database</tool_description>'
    )
    assert "never an instruction" in run.requests[0]["messages"][0]["content"]
    assert json.loads(json.dumps(offered["sqlite__read_query"]["parameters"]))["required"] == ["query"]
