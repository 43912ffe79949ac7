"""Kill matrix (issue 13): SIGKILL Pepper's parts at random points of the demo ingest and count what is
lost or duplicated against a clean run of the same data.

- per server (context, gmail, calendar, notify): one `run --demo` (rules mode, no embedder) on a copy
  of the demo (294 emails, 17 events); `--kills` times, after a random pause, the server's process is
  SIGKILLed; measured: when the supervisor marked it down (`since` of its state: detection), when
  the page's event stream (`/pepper/api/events`, pushed at each change) said so, when
  `/pepper/api/status` (what `status` prints first, from memory) showed it down, when the full
  snapshot `/pepper/api/state` did (it waits for the context store's queries: the path measured
  before the status endpoint existed), and when it was connected again; the orchestrator must stay
  up throughout;
- the orchestrator: `--orchestrator-kills` times it is SIGKILLed (its servers must all be gone within
  1 s) and started again on the same data;
- each run then settles, and its `raw.email` and `signals.*` ids and notifications (by dedupe key) are
  compared with the clean run's: lost = missing, duplicated = a dedupe key notified twice.

Run: `.venv/bin/python bench/kill_matrix.py` (about 15 minutes here with the defaults);
`--kills 2 --orchestrator-kills 2 --servers notify` for a quick look; `--detect-only` skips the clean
run and the comparison (times only, a couple of minutes); `--json` for machine output.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# bench/ holds calendar.py, which would shadow the stdlib's `calendar`: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from importlib import metadata  # noqa: E402  (imports the stdlib calendar module)

import httpx  # noqa: E402

from tests.support.pepper_run import (  # noqa: E402
    SERVER_MODULES,
    Outcome,
    PepperRun,
    alive,
    demo_copy,
    read_outcome,
    wait_until,
)

SEED = 20261205


def server_kills(
    template: Path, work: Path, server: str, kills: int, rng: random.Random, settle: bool = True
) -> dict[str, Any]:
    """One run with `kills` SIGKILLs of `server`; times to detect, show it down and have it back."""
    run = PepperRun(demo_copy(template, work / server), work / f"{server}.log")
    times: dict[str, list[float]] = {
        "detected": [],
        "streamed": [],
        "detect": [],
        "snapshot": [],
        "recover": [],
    }
    orchestrator_up = True
    run.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.5, 4.0))
            for key, value in timed_kill(run, server).items():
                times[key].append(value)
            orchestrator_up &= run.process is not None and run.process.poll() is None
        if settle:
            run.settle(timeout=600)
    finally:
        orchestrator_up &= run.process is not None and run.process.poll() is None
        run.stop()
    return {**times, "orchestrator_up": orchestrator_up, "data": run.data_dir}


def timed_kill(run: PepperRun, server: str) -> dict[str, float]:
    """SIGKILL `server`; seconds until the supervisor marked it down, until the page's event stream
    said so, until `/status` and the full snapshot `/state` (polled side by side) showed it, and
    until it was connected again."""
    snapshot: list[float] = []
    streamed: list[float] = []
    listening, killed_at = threading.Event(), []
    stream = threading.Thread(target=stream_down, args=(run, server, listening, killed_at, streamed))
    stream.start()
    listening.wait(30)

    def poll_snapshot() -> None:
        def down() -> bool:
            state = run.state()
            servers = {s["name"]: s["state"] for s in state["status"]["servers"]} if state else {}
            return servers.get(server) == "down"

        wait_until(down, 10, f"{server} never showed as down in /state")
        snapshot.append(time.monotonic() - killed)

    pid, wall, killed = run.servers()[server], time.time(), time.monotonic()
    killed_at.append(killed)
    os.kill(pid, signal.SIGKILL)
    poller = threading.Thread(target=poll_snapshot)
    poller.start()
    status = wait_until(lambda: down_entry(run, server), 10, f"{server} never showed as down")
    shown = time.monotonic() - killed
    poller.join()
    stream.join()
    run.wait_connected(server, timeout=120)
    recover = time.monotonic() - killed
    return {
        "detected": status["since"] - wall,
        "streamed": streamed[0] if streamed else float("nan"),
        "detect": shown,
        "snapshot": snapshot[0],
        "recover": recover,
    }


def stream_down(
    run: PepperRun, server: str, listening: threading.Event, killed_at: list[float], streamed: list[float]
) -> None:
    """Read the page's event stream (`/pepper/api/events`) as the UI does; `listening` once its first
    status arrived; the seconds from the kill to the status event that shows `server` down."""
    url = f"http://127.0.0.1:{run.port}/pepper/api/events"
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=20)) as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:") and kind == "status":
                listening.set()
                servers = {s["name"]: s["state"] for s in json.loads(line.partition(":")[2])["servers"]}
                if killed_at and servers.get(server) == "down":
                    streamed.append(time.monotonic() - killed_at[0])
                    return


def down_entry(run: PepperRun, server: str) -> dict[str, Any] | None:
    status = run.status()
    entry = {s["name"]: s for s in status["servers"]}.get(server) if status else None
    return entry if entry and entry["state"] == "down" else None


def orchestrator_kills(template: Path, work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    """`kills` SIGKILLs of the orchestrator, each followed by a restart; how long its servers lived on."""
    run = PepperRun(demo_copy(template, work / "orchestrator"), work / "orchestrator.log")
    outlived, left_behind = [], 0
    for _ in range(kills):
        run.start()
        time.sleep(rng.uniform(1.0, 8.0))
        servers = list(run.servers().values())
        os.kill(run.pid, signal.SIGKILL)
        run.process.wait()
        killed = time.monotonic()
        try:
            wait_until(functools.partial(all_gone, servers), 1.0, "servers outlived Pepper")
        except TimeoutError:
            left_behind += 1
            wait_until(functools.partial(all_gone, servers), 30.0, "servers outlived Pepper")
        outlived.append(time.monotonic() - killed)
        run.process = None
    run.start()
    try:
        run.settle(timeout=600)
    finally:
        run.stop()
    return {"detect": [], "recover": outlived, "left_behind": left_behind, "data": run.data_dir}


def all_gone(pids: list[int]) -> bool:
    return not any(alive(pid) for pid in pids)


def clean(template: Path, work: Path) -> Outcome:
    run = PepperRun(demo_copy(template, work / "clean"), work / "clean.log")
    run.start()
    try:
        run.settle(timeout=600)
    finally:
        run.stop()
    return read_outcome(run.data_dir)


def row(name: str, result: dict[str, Any], baseline: Outcome | None, kills: int) -> dict[str, Any]:
    counts = (
        read_outcome(result["data"]).compare(baseline)
        if baseline is not None
        else {"lost": "-", "duplicated": "-", "extra": "-"}
    )

    def stats(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-"

    return {
        "experiment": name,
        "runs": kills,
        "lost": counts["lost"],
        "duplicated": counts["duplicated"],
        "extra": counts["extra"],
        "detected_s_p50_max": stats(result.get("detected", [])),
        "ui_stream_s_p50_max": stats(result.get("streamed", [])),
        "shown_down_s_p50_max": stats(result["detect"]),
        "snapshot_down_s_p50_max": stats(result.get("snapshot", [])),
        "recover_s_p50_max": stats(result["recover"]),
        "note": "orchestrator up throughout"
        if result.get("orchestrator_up")
        else (
            f"servers left after 1 s: {result['left_behind']}"
            if "left_behind" in result
            else "ORCHESTRATOR DIED"
        ),
    }


def environment() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("mcp", "fastmcp", "anyio"))
    return f"{platform.node()} · {os.cpu_count()} cores · load {load} · Python {platform.python_version()} · {versions}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs per server (default 10)")
    parser.add_argument("--orchestrator-kills", type=int, default=10, help="SIGKILLs of the orchestrator")
    parser.add_argument("--servers", default=",".join(SERVER_MODULES), help="comma-separated server names")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--detect-only", action="store_true", help="times only: no clean run, no settling, no comparison"
    )
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pepper-kills-") as directory:
        work = Path(directory)
        template = work / "template"
        baseline = None if arguments.detect_only else clean(template, work)
        for server in filter(None, arguments.servers.split(",")):
            result = server_kills(template, work, server, arguments.kills, rng, not arguments.detect_only)
            rows.append(row(f"kill {server}", result, baseline, arguments.kills))
        if arguments.orchestrator_kills and baseline is not None:
            result = orchestrator_kills(template, work, arguments.orchestrator_kills, rng)
            rows.append(row("kill orchestrator", result, baseline, arguments.orchestrator_kills))
    if arguments.json:
        clean_run = baseline and {
            "emails": len(baseline.emails),
            "signals": len(baseline.signals),
            "notifications": len(baseline.notifications),
        }
        report = {"environment": environment(), "seed": arguments.seed, "clean": clean_run, "rows": rows}
        print(json.dumps(report, indent=2))
        return
    print(f"kill matrix · seed {arguments.seed} · {environment()}")
    if baseline is not None:
        print(
            f"clean run: {len(baseline.emails)} emails, {len(baseline.signals)} signals, "
            f"{len(baseline.notifications)} notifications"
        )
    header = [
        "experiment",
        "runs",
        "lost",
        "duplicated",
        "extra",
        "detected_s_p50_max",
        "ui_stream_s_p50_max",
        "shown_down_s_p50_max",
        "snapshot_down_s_p50_max",
        "recover_s_p50_max",
        "note",
    ]
    print(" | ".join(header))
    for entry in rows:
        print(" | ".join(str(entry[key]) for key in header))


if __name__ == "__main__":
    main()
