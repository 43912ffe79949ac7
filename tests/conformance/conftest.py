"""Fixtures of the conformance checks: the pinned Node tools."""

from __future__ import annotations

import pytest

from tests.conformance.node_tools import NodeTools, NodeToolsMissing, find_node_tools


@pytest.fixture(scope="session")
def node_tools() -> NodeTools:
    """The conformance suite and Inspector CLI; a failure (not a skip) when they are not installed."""
    try:
        return find_node_tools()
    except NodeToolsMissing as exc:
        pytest.fail(str(exc))
