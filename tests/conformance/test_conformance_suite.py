"""Every Pepper server passes the official MCP conformance suite over streamable HTTP.

A real child process serves HTTP on a free port; the suite runs its active server scenarios against
it with the server's expected-failures file. The suite itself fails the run on a scenario that fails
without being listed, and on a listed scenario that passes; the assertion message is its own output.
A last test doctors a baseline to check that the harness really reports both kinds of mismatch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conformance_suite import expected_failures_path, read_expected_failures, run_suite
from tests.conformance.node_tools import NodeTools
from tests.conformance.servers import SERVERS, PepperServer, require_server
from tests.support.processes import http_server


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS, ids=lambda server: server.name)
def test_server_passes_conformance_suite_except_expected_failures(
    server: PepperServer, node_tools: NodeTools, tmp_path: Path
) -> None:
    require_server(server)
    scratch, results = tmp_path / "scratch", tmp_path / "results"
    scratch.mkdir()
    results.mkdir()
    baseline = expected_failures_path(server.name)
    server_args = server.prepare(scratch)

    with http_server(server.module, server_args, env=server.environment(scratch)) as url:
        run = run_suite(node_tools, url, baseline if baseline.exists() else None, results)

    assert "server-initialize" in run.checks, f"the suite did not run:\n{run.report()}"
    assert run.returncode == 0, f"{server.module} fails the conformance suite:\n{run.report()}"


@pytest.mark.slow
def test_suite_run_fails_when_baseline_misses_failure_or_lists_pass(
    node_tools: NodeTools, tmp_path: Path
) -> None:
    server = next(server for server in SERVERS if server.name == "context_store")
    require_server(server)
    scratch, results = tmp_path / "scratch", tmp_path / "results"
    scratch.mkdir()
    results.mkdir()
    entries = read_expected_failures(expected_failures_path(server.name))
    doctored = tmp_path / "doctored.yml"
    kept = [entry for entry in entries if entry.scenario != "completion-complete"]
    doctored.write_text(
        "server:\n" + "".join(f"  - {entry.scenario}  # kept\n" for entry in kept) + "  - ping  # passes\n"
    )

    with http_server(server.module, server.prepare(scratch), env=server.environment(scratch)) as url:
        run = run_suite(node_tools, url, doctored, results)

    report = run.report()
    assert run.returncode != 0, report
    unexpected = report[report.index("Unexpected failures") :]
    stale = report[report.index("Stale baseline entries") : report.index("Unexpected failures")]
    assert "completion-complete" in unexpected.splitlines()[1], report
    assert "ping" in stale, report
    assert "completion-complete [completion-complete]: Failed: MCP error -32601" in report
