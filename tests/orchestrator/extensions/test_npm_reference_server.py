"""A reference MCP server from npm (`@modelcontextprotocol/server-memory`, pinned in
tools/node/package.json, installed by scripts/setup-node.sh, run on its Node 22), added through the
config with `trust_annotations = true`: the tools it marks readOnlyHint (read_graph, search_nodes)
run for a worker at once; create_entities waits for approval, and runs once approved. The model is
the scripted OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.orchestrator.extensions.test_reference_servers import run_worker, tool_outputs
from tests.support.reference_servers import npm_reference_server
from tests.support.scripted_llm import Step, tool_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context"), pytest.mark.timeout(180)]


def config(tmp_path: Path, memory: Path) -> Path:
    node, script = npm_reference_server("server-memory")
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[servers.memory]
command = "{node}"
args = ["{script}"]
env = {{ MEMORY_FILE_PATH = "{memory}" }}
trust_annotations = true
"""
    )
    return path


def graph(memory: Path) -> list[dict]:
    return [json.loads(line) for line in memory.read_text().splitlines() if line.strip()]


async def test_npm_memory_server_reads_run_and_writes_wait_for_approval(connections, tmp_path: Path) -> None:
    memory = tmp_path / "memory.jsonl"
    memory.write_text(
        json.dumps(
            {"type": "entity", "name": "Atlas", "entityType": "project", "observations": ["due in March"]}
        )
        + "\n"
    )
    entity = {"name": "Dana", "entityType": "person", "observations": ["owns the Atlas deck"]}
    steps = [
        Step(
            tool_calls=[
                ("memory__read_graph", "{}"),
                ("memory__search_nodes", tool_arguments(query="Atlas")),
            ]
        ),
        Step(tool_calls=[("memory__create_entities", tool_arguments(entities=[entity]))]),
        Step(content="Atlas is due in March; remembering Dana waits for your approval."),
    ]
    run = await run_worker(connections["context"], config(tmp_path, memory), steps, "What about Atlas?")
    whole, found = tool_outputs(run.requests[1])
    assert "due in March" in whole and "Atlas" in found
    [queued] = tool_outputs(run.requests[2])[-1:]
    assert "Queued for the user's approval" in queued
    assert [(a.server, a.tool) for a in run.pending] == [("memory", "create_entities")]
    assert [a.status for a in run.approved] == ["done"]
    assert [e["name"] for e in graph(memory)] == ["Atlas", "Dana"]
    offered = {t["function"]["name"] for t in run.requests[0]["tools"]}
    assert {"memory__read_graph", "memory__delete_entities", "memory__create_relations"} <= offered
