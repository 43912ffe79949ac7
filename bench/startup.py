"""Start-up of `pepper-orchestrator run --demo` to a serving UI (issue 8 target: <= 5 s after
installation), measured from the process launch to the first answer of `/pepper/api/state` (the
page's data: it needs the context store connected), and, as a second figure, to the first answer in
which all four servers are connected. The first run includes generating the demo data; the next ones
reuse it.

Run: `.venv/bin/python bench/startup.py [--runs 3]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds calendar.py, which would shadow the stdlib's `calendar` (urllib needs it): keep it off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_once(data_dir: Path) -> tuple[float, float]:
    """(seconds to the UI's first answer, seconds until it reports every server connected)."""
    port = free_port()
    env = {**os.environ, "PEPPER_CONFIG": str(data_dir / "absent.toml"), "PYTHONPATH": str(REPO)}
    env.pop("OPENAI_BASE_URL", None)
    env.pop("OPENAI_API_KEY", None)
    command = [
        sys.executable,
        "-m",
        "orchestrator.cli",
        "run",
        "--demo",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    serving = None
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"pepper-orchestrator exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/pepper/api/state", timeout=5) as answer:
                    state = json.load(answer)
            except OSError:
                time.sleep(0.05)
                continue
            serving = serving or time.perf_counter() - started
            if all(server["state"] == "connected" for server in state["status"]["servers"]):
                return serving, time.perf_counter() - started
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "demo"
        times = [start_once(data_dir) for _ in range(runs)]
    print(f"{'measure':<52} | UI serving | all servers | target")
    rows = [("first start (generates the demo data)", [times[0]])]
    if len(times) > 1:
        rows.append((f"later starts, median of {len(times) - 1}", times[1:]))
    for label, measured in rows:
        serving = statistics.median(t[0] for t in measured)
        connected = statistics.median(t[1] for t in measured)
        print(f"{label:<52} | {serving:8.2f} s | {connected:9.2f} s | UI <= 5 s")
    print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
