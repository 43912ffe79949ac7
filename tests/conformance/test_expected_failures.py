"""Expected-failures files stay honest: known servers, known scenarios, one reason per entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conformance_suite import (
    EXPECTED_FAILURES_DIR,
    ExpectedFailuresError,
    list_server_scenarios,
    read_expected_failures,
)
from tests.conformance.node_tools import NodeTools
from tests.conformance.servers import SERVERS

BASELINES = sorted(EXPECTED_FAILURES_DIR.glob("*.yml"))


def test_read_expected_failures_returns_scenarios_with_reasons(tmp_path: Path) -> None:
    baseline = tmp_path / "demo.yml"
    baseline.write_text(
        "# header comment\nserver:\n  - prompts-list  # no prompts\n\n  - ping   #  why not\n"
    )

    entries = read_expected_failures(baseline)

    assert [(entry.scenario, entry.reason) for entry in entries] == [
        ("prompts-list", "no prompts"),
        ("ping", "why not"),
    ]


@pytest.mark.parametrize(
    "content",
    ["server:\n  - prompts-list\n", "  - prompts-list  # no server: key\n", "client:\n  - x  # y\n"],
    ids=["entry_without_reason", "entry_outside_server_list", "client_list"],
)
def test_read_expected_failures_rejects_file_when_form_is_wrong(tmp_path: Path, content: str) -> None:
    baseline = tmp_path / "demo.yml"
    baseline.write_text(content)

    with pytest.raises(ExpectedFailuresError, match=r"demo\.yml:\d+"):
        read_expected_failures(baseline)


@pytest.mark.parametrize("baseline", BASELINES, ids=lambda path: path.stem)
def test_expected_failures_name_known_server_and_scenarios(
    baseline: Path, node_tools: NodeTools, tmp_path: Path
) -> None:
    known_scenarios = set(list_server_scenarios(node_tools, tmp_path))
    entries = read_expected_failures(baseline)
    scenarios = [entry.scenario for entry in entries]

    assert baseline.stem in {server.name for server in SERVERS}
    assert set(scenarios) <= known_scenarios, set(scenarios) - known_scenarios
    assert len(scenarios) == len(set(scenarios)), "a scenario is listed twice"
