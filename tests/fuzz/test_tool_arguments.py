"""Every tool of every server, called with fuzzed arguments, answers within its deadline and the server
keeps serving (issue 13).

Each server runs as a real child process on throwaway data (gmail and the calendar with
`--allow-send`, so their write paths run) and every listed tool gets a small fixed-seed budget of
argument sets drawn from its input schema: hostile but well-shaped values (megabyte strings, control
and RTL characters, far dates, huge integers, deep JSON, RRULEs like FREQ=SECONDLY), and schema-invalid
ones. Each call must get an answer within the deadline (a result, a tool error, invalid arguments
or a JSON-RPC error), never an internal error (an exception escaping a tool with its raw message),
and the server's read tool must answer right after. All four run over stdio, one over HTTP.
`bench/fuzz_tools.py` runs the same with a larger budget.

What JSON carries but MCP refuses to parse (lone surrogates, nesting past 200 levels) is left out
here: it is refused at the frame level before any tool sees it, which the raw-frame fuzz test covers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .driver import fuzz_tool, running_fuzzer
from .harness import BAD_KINDS, RESULT, Outcome
from .targets import TARGETS

pytestmark = pytest.mark.slow

EXAMPLES_PER_TOOL = 15
DEADLINE_SECONDS = 10.0


def check_answered_and_alive(outcome: Outcome, probe: Outcome) -> None:
    assert outcome.kind not in BAD_KINDS, outcome.describe()
    assert probe.kind == RESULT, f"the server stopped serving after {outcome.describe()}: {probe.describe()}"


def fuzz_every_tool(server: str, transport: str, folder: Path) -> set[str]:
    with running_fuzzer(TARGETS[server], transport, folder, DEADLINE_SECONDS) as (portal, fuzzer):
        for tool in sorted(fuzzer.tools):
            fuzz_tool(portal, fuzzer, tool, EXAMPLES_PER_TOOL, check_answered_and_alive)
        assert portal.call(fuzzer.alive).kind == RESULT
        return set(fuzzer.tools)


@pytest.mark.parametrize("server", sorted(TARGETS))
def test_every_tool_answers_fuzzed_arguments_over_stdio_and_the_server_keeps_serving(
    server: str, tmp_path: Path
) -> None:
    assert fuzz_every_tool(server, "stdio", tmp_path)


def test_every_notify_tool_answers_fuzzed_arguments_over_http_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    assert fuzz_every_tool("notify", "http", tmp_path)
