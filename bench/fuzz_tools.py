"""Long fuzzing of every tool of Pepper's four servers over stdio and HTTP (issue 13).

Each server runs as a real child process on throwaway data, gmail and the calendar with `--allow-send`.
Every tool gets `--examples` argument sets drawn by Hypothesis from its input schema (hostile but
well-shaped values, and schema-invalid ones, including what JSON carries but MCP refuses: lone
surrogates, nesting past 200 levels); after each call the server's read tool must answer. Per server
and transport it prints the calls made, how many were answered within the deadline, the answers by
kind, timeouts, the slowest answer and whether the server still served at the end, then every
internal error (an exception that escaped a tool), timeout and lost connection once per tool and
message shape.

Run: `.venv/bin/python bench/fuzz_tools.py [--examples 200] [--servers gmail,notify]
[--transports stdio,http] [--seed 1] [--deadline 10] [--no-frame-extremes] [--json]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds calendar.py, which would shadow the stdlib's `calendar`: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402
from typing import Any  # noqa: E402

from tests.fuzz.driver import fuzz_tool, running_fuzzer  # noqa: E402
from tests.fuzz.harness import BAD_KINDS, RESULT, TIMEOUT, Outcome  # noqa: E402
from tests.fuzz.targets import TARGETS  # noqa: E402


@dataclass
class Run:
    server: str
    transport: str
    calls: int = 0
    answered: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0
    max_latency: float = 0.0
    dead_probes: int = 0
    alive_after: bool = False
    seconds: float = 0.0
    bad: dict[str, str] = field(default_factory=dict)  # internal errors, timeouts, lost connections


def _shape(outcome: Outcome) -> str:
    """The message with numbers and quoted values blurred, so one bug counts once."""
    return outcome.tool + ": " + re.sub(r"'[^']*'|\d+", "_", outcome.message)[:160]


def fuzz_server(name: str, transport: str, examples: int, options: argparse.Namespace, scratch: Path) -> Run:
    run = Run(name, transport)
    started = time.perf_counter()

    def count(outcome: Outcome, probe: Outcome) -> None:
        run.calls += 1
        run.answered += outcome.kind != TIMEOUT
        run.timeouts += outcome.kind == TIMEOUT
        run.kinds[outcome.kind] = run.kinds.get(outcome.kind, 0) + 1
        run.dead_probes += probe.kind != RESULT
        if probe.kind != RESULT:
            run.bad.setdefault(
                f"probe {_shape(probe)}", f"probe after {outcome.describe(120)}: {probe.describe(240)}"
            )
        if outcome.kind in BAD_KINDS:
            run.bad.setdefault(f"{outcome.kind} {_shape(outcome)}", outcome.describe(240))

    with running_fuzzer(TARGETS[name], transport, scratch / f"{name}-{transport}", options.deadline) as (
        portal,
        fuzzer,
    ):
        for tool in sorted(fuzzer.tools):
            fuzz_tool(
                portal,
                fuzzer,
                tool,
                examples,
                count,
                frame_extremes=options.frame_extremes,
                random_seed=options.seed,
            )
        run.alive_after = portal.call(fuzzer.alive).kind == RESULT
        run.max_latency = fuzzer.slowest
    run.seconds = time.perf_counter() - started
    return run


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "hypothesis": version("hypothesis"),
        "mcp": version("mcp"),
        "fastmcp": version("fastmcp"),
    }


def print_table(runs: list[Run]) -> None:
    print(
        f"{'server':<14}{'transport':<10}{'calls':>7}{'answered':>10}{'timeouts':>10}{'max s':>8}"
        f"{'probe fails':>13}{'alive':>7}{'wall s':>8}  answers by kind"
    )
    for run in runs:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(run.kinds.items()))
        print(
            f"{run.server:<14}{run.transport:<10}{run.calls:>7}{run.answered:>10}{run.timeouts:>10}"
            f"{run.max_latency:>8.2f}{run.dead_probes:>13}{'yes' if run.alive_after else 'NO':>7}"
            f"{run.seconds:>8.0f}  {kinds}"
        )
    for run in runs:
        for described in run.bad.values():
            print(f"{run.server}/{run.transport}: {described}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="argument sets per tool (default 200)")
    parser.add_argument("--servers", default=",".join(TARGETS), help="comma-separated servers")
    parser.add_argument("--transports", default="stdio,http", help="stdio, http or both")
    parser.add_argument("--seed", type=int, default=13, help="Hypothesis seed (fixed: runs repeat)")
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds each call may take")
    parser.add_argument(
        "--no-frame-extremes",
        dest="frame_extremes",
        action="store_false",
        help="leave out lone surrogates and nesting past 200 levels",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    options = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="pepper-fuzz-") as scratch:
        for name in options.servers.split(","):
            for transport in options.transports.split(","):
                runs.append(fuzz_server(name, transport, options.examples, options, Path(scratch)))
    if options.json:
        print(
            json.dumps(
                {"machine": machine(), "examples": options.examples, "runs": [run.__dict__ for run in runs]},
                indent=2,
            )
        )
        return
    print(
        f"tool-argument fuzzing, {options.examples} examples per tool, seed {options.seed}, "
        f"deadline {options.deadline} s; {machine()}"
    )
    print_table(runs)


if __name__ == "__main__":
    main()
