"""Custom workers from `[workers.NAME]`: the scheduler's `delegate` offers them in LLM mode, each runs
with its instructions and only its allowed tools, and a stateful one keeps its notes across a restart
of Pepper. The whole path runs in-process against real server children and the scripted model: the
data worker of examples/data-worker, over the reference SQLite server, on a CSV the user imported."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.app import Pepper
from orchestrator.config import load_settings
from orchestrator.remote import _status_lines
from orchestrator.scheduler_tools import scheduler_tools
from tests.support.processes import REPO_ROOT
from tests.support.reference_servers import reference_server
from tests.support.scripted_llm import Step, last_message, offered_tools, scripted_llm_server, tool_arguments

# Pepper's shutdown may leave a server the SDK's stdio client gave up waiting for: collected here.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

DATA_EXAMPLE = REPO_ROOT / "examples" / "data-worker"
USER_MSG = re.compile(r"<user_msg[^>]*>(.*?)</user_msg>", re.S)
TOOL_RESULT = re.compile(r"<tool_result[^>]*>(.*?)</tool_result>", re.S)
CHAT_SECONDS = 120
INSTRUCTIONS = "Answer with SQL over the expenses table; give totals in euros."


def write_config(tmp_path: Path, db: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[servers.context]
env = {{ PEPPER_CONTEXT_EMBEDDER = "none", PYTHONPATH = "{REPO_ROOT}" }}
[servers.gmail]
enabled = false
[servers.calendar]
enabled = false
[servers.notify]
enabled = false
[servers.sqlite]
command = "{reference_server("sqlite", "mcp-server-sqlite")}"
args = ["--db-path", "{db}"]
read_tools = ["read_*", "list_*", "describe_*"]
[workers.data]
description = "Answers questions about the user's expenses database."
instructions = "{INSTRUCTIONS}"
servers = ["sqlite"]
[workers.clerk]
description = "Files things; never touches the database."
stateful = false
concurrency = 2
timeout_seconds = 30
"""
    )
    return config


class DataModel:
    """The scheduler delegates each new user message to `data` and relays each worker answer; the
    worker sums the expenses with `sqlite__read_query` and answers with the total and what it
    remembered."""

    def __init__(self) -> None:
        self.delegated: set[str] = set()
        self.relayed: set[str] = set()
        self.worker_prompts: list[list[dict[str, Any]]] = []

    def __call__(self, request: dict[str, Any]) -> Step:
        tools = offered_tools(request)
        if "delegate" in tools:
            return self._scheduler(html.unescape(str(last_message(request).get("content") or "")))
        if "sqlite__read_query" in tools:
            return self._worker(request)
        return Step(content="Earlier: the user asked about expenses.")

    def _scheduler(self, history: str) -> Step:
        for text in USER_MSG.findall(history):
            if text not in self.delegated:
                self.delegated.add(text)
                return Step(tool_calls=[("delegate", tool_arguments(task=text, worker="data"))])
        for result in TOOL_RESULT.findall(history):
            if result not in self.relayed:
                self.relayed.add(result)
                return Step(tool_calls=[("send_to_user", tool_arguments(text=f"Worker: {result}"))])
        return Step(tool_calls=[("wait", "{}")])

    def _worker(self, request: dict[str, Any]) -> Step:
        messages = request["messages"]
        if messages[-1]["role"] != "tool":
            self.worker_prompts.append(messages)
            query = "SELECT SUM(amount) AS total FROM expenses"
            return Step(tool_calls=[("sqlite__read_query", tool_arguments(query=query))])
        total = re.search(r"[\d.]+(?=\})", messages[-1]["content"])
        remembered = (
            "with notes" if any("What you remember" in str(m["content"]) for m in messages) else "fresh"
        )
        return Step(content=f"total {total.group(0) if total else '?'} ({remembered})")


async def chat_until(pepper: Pepper, found: Callable[[list[str]], bool]) -> list[str]:
    """Wait (woken by the context store's updates of the chat) until the assistant's lines satisfy `found`."""
    changed = [anyio.Event()]
    async with anyio.create_task_group() as watching:
        watching.start_soon(
            pepper.connections["context"].watch, "context://namespace/chat.*", lambda: changed[0].set()
        )
        with anyio.fail_after(CHAT_SECONDS):
            while True:
                changed[0] = event = anyio.Event()
                lines = [m.text for m in await pepper.chat.recent() if m.role == "assistant"]
                if found(lines):
                    break
                await event.wait()
        watching.cancel_scope.cancel()
    return lines


async def ask_once(config: Path, data_dir: Path, base_url: str, question: str, answers: int) -> list[str]:
    settings = load_settings(config, data_dir=data_dir, openai_base_url=base_url, openai_api_key="test")
    pepper = Pepper(settings)
    async with anyio.create_task_group() as task_group:
        await task_group.start(pepper.run)
        await pepper.send(question)
        lines = await chat_until(
            pepper, lambda lines: len([x for x in lines if x.startswith("Worker:")]) >= answers
        )
        task_group.cancel_scope.cancel()
    await pepper.aclose()
    return [line for line in lines if line.startswith("Worker:")]


async def test_stateful_custom_worker_answers_two_tasks_in_turn_and_remembers_across_a_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data.sqlite3"  # the user imports a CSV with the example's script
    script = [
        sys.executable,
        str(DATA_EXAMPLE / "import_csv.py"),
        str(DATA_EXAMPLE / "expenses.csv"),
        str(db),
    ]
    imported = await anyio.run_process(script, check=True)
    assert imported.stdout.decode().strip() == f"imported 2 rows into {db} table expenses"
    config, data_dir = write_config(tmp_path, db), tmp_path / "data"
    model = DataModel()
    with scripted_llm_server(responder=model) as llm:
        first = await ask_once(config, data_dir, llm.base_url, "How much did I spend?", 1)
        second = await ask_once(config, data_dir, llm.base_url, "And how much now?", 2)
    assert first == ["Worker: total 162.5 (fresh)"]
    assert second[-1] == "Worker: total 162.5 (with notes)"
    scheduler = next(r for r in llm.requests if "delegate" in offered_tools(r))
    delegate = next(t["function"] for t in scheduler["tools"] if t["function"]["name"] == "delegate")
    assert (
        "- data (keeps notes across tasks): Answers questions about the user's expenses database."
        in delegate["description"]
    )
    assert "- clerk (one-off): Files things" in delegate["description"]
    first_prompt, second_prompt = model.worker_prompts
    assert first_prompt[1] == {"role": "system", "content": f"Your job:\n{INSTRUCTIONS}"}
    notes = " ".join(str(m["content"]) for m in second_prompt if m["role"] == "system")
    assert "Task: How much did I spend?" in notes and "total 162.5 (fresh)" in notes
    worker_request = next(r for r in llm.requests if "sqlite__read_query" in offered_tools(r))
    assert offered_tools(worker_request) == {
        f"sqlite__{tool}"
        for tool in (
            "read_query",
            "write_query",
            "create_table",
            "list_tables",
            "describe_table",
            "append_insight",
        )
    }


def test_custom_workers_are_listed_as_unavailable_in_rules_mode(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "expenses.db")
    settings = load_settings(config, data_dir=tmp_path / "data", openai_base_url=None, openai_api_key=None)
    pepper = Pepper(settings)
    assert pepper.mode == "rules" and pepper.workers is None
    assert "delegate" not in {tool.name for tool in scheduler_tools(False, settings.workers)}
    listed = pepper.custom_workers()
    assert [(w["name"], w["available"]) for w in listed] == [("data", False), ("clerk", False)]
    lines = _status_lines({"mode": "rules", "model": None, "servers": [], "custom_workers": listed})
    assert lines[1:] == [
        "worker data: unavailable (rules mode: custom workers need a language model)",
        "worker clerk: unavailable (rules mode: custom workers need a language model)",
    ]
