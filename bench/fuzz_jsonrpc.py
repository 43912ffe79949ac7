"""Fuzzing raw JSON-RPC frames against all four MCP servers, over stdio and streamable HTTP.

    .venv/bin/python bench/fuzz_jsonrpc.py [--examples 500] [--servers gmail notify] [--transports stdio]
                                           [--deadline 10] [--seed 1205] [--json]

Each server runs as a real process on scratch data (tests/support/raw_jsonrpc.py). Hypothesis draws
frames (tests/support/frame_fuzz.py: JSON-RPC messages with random ids, methods and params, the same
with random bytes spliced in, arbitrary JSON, raw bytes, nesting up to 100,000 levels, lone
surrogates) from a fixed seed. Over stdio each frame is followed by a ping: the frame's answer (when
one is due: requests and malformed frames) and the ping's must arrive within the deadline. Over HTTP
each frame is one POST in a session: no 5xx, a malformed frame answered 400/413 with its JSON-RPC
error. Printed per server and transport: frames, failures, answer latency (p50, p99, max), and
whether the server still answered a ping at the end. The test suite runs 50 examples on one server.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds calendar.py, which would shadow the stdlib's `calendar`: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.support.frame_fuzz import exchange_http, exchange_stdio, frames  # noqa: E402
from tests.support.processes import http_server  # noqa: E402
from tests.support.raw_jsonrpc import SERVERS, RawHttpSession, RawStdioServer  # noqa: E402


def fuzz(exchange, examples: int, fixed_seed: int) -> dict[str, object]:
    """Run `exchange(frame)` on `examples` drawn frames; the latencies and the failures."""
    latencies: list[float] = []
    failures: list[str] = []

    @seed(fixed_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],  # count every failure, do not stop to shrink one
        suppress_health_check=list(HealthCheck),
    )
    @given(frame=frames)
    def run(frame: bytes) -> None:
        try:
            latencies.append(exchange(frame))
        except AssertionError as exc:
            failures.append(str(exc)[:300])

    run()
    return {"frames": len(latencies) + len(failures), "failures": failures, "latencies": latencies}


def stdio_run(name: str, folder: Path, examples: int, deadline: float, fixed_seed: int) -> dict[str, object]:
    probes = itertools.count()
    with RawStdioServer(SERVERS[name], folder) as server:
        server.initialize()
        result = fuzz(
            lambda frame: exchange_stdio(server, frame, f"probe-{next(probes)}", deadline),
            examples,
            fixed_seed,
        )
        result["alive"] = server.process.poll() is None and server.ping("still-alive")
    return result


def http_run(name: str, folder: Path, examples: int, deadline: float, fixed_seed: int) -> dict[str, object]:
    recipe = SERVERS[name]
    folder.mkdir(parents=True, exist_ok=True)
    with (
        http_server(recipe.module, recipe.arguments(folder), recipe.env) as url,
        RawHttpSession(url) as session,
    ):
        result = fuzz(lambda frame: exchange_http(session, frame, deadline), examples, fixed_seed)
        result["alive"] = session.ping("still-alive")
    return result


def quantile_ms(latencies: list[float], q: float) -> float:
    """The `q` quantile of sorted `latencies`, in milliseconds (0 when there are none)."""
    if not latencies:
        return 0.0
    return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)


def summary(server: str, transport: str, result: dict[str, object]) -> dict[str, object]:
    latencies = sorted(result["latencies"])  # type: ignore[arg-type]
    return {
        "server": server,
        "transport": transport,
        "frames": result["frames"],
        "failures": len(result["failures"]),  # type: ignore[arg-type]
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "p99_ms": quantile_ms(latencies, 0.99),
        "max_ms": quantile_ms(latencies, 1.0),
        "alive_after": result["alive"],
        "first_failures": result["failures"][:3],  # type: ignore[index]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=500, help="frames per server and transport")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=sorted(SERVERS))
    parser.add_argument("--transports", nargs="+", choices=["stdio", "http"], default=["stdio", "http"])
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds allowed per frame")
    parser.add_argument("--seed", type=int, default=1205)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    arguments = parser.parse_args()
    runners = {"stdio": stdio_run, "http": http_run}
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for server, transport in itertools.product(arguments.servers, arguments.transports):
            folder = Path(scratch) / f"{server}-{transport}"
            result = runners[transport](
                server, folder, arguments.examples, arguments.deadline, arguments.seed
            )
            rows.append(summary(server, transport, result))
    machine = {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "seed": arguments.seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if arguments.json:
        print(json.dumps({"machine": machine, "runs": rows}, indent=2))
        return
    print(
        f"{'server':<14} {'transport':<9} {'frames':>6} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} alive"
    )
    for row in rows:
        print(
            f"{row['server']:<14} {row['transport']:<9} {row['frames']:>6} {row['failures']:>6} "
            f"{row['p50_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8} {row['alive_after']}"
        )
        for failure in row["first_failures"]:
            print(f"    failure: {failure}")
    print(" ".join(f"{key}={value}" for key, value in machine.items()))


if __name__ == "__main__":
    main()
