"""Start-up of `pepper-orchestrator run --demo` to a serving UI (issue 8 target: <= 5 s after
installation), measured from the process launch to the first answer of `/pepper/api/state`, which
needs every server connected. The first run includes generating the demo data; the next ones reuse it.

Run: `.venv/bin/python bench/startup.py [--runs 3]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds calendar.py, which would shadow the stdlib's `calendar` (urllib needs it): keep it off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse  # noqa: E402
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


def start_once(data_dir: Path) -> float:
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
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"pepper-orchestrator exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/pepper/api/state", timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
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
    print(f"{'measure':<44} | result | target")
    print(f"{'first start (generates the demo data)':<44} | {times[0]:.2f} s | <= 5 s")
    if len(times) > 1:
        print(
            f"{'later starts, median of ' + str(len(times) - 1):<44} | {statistics.median(times[1:]):.2f} s | <= 5 s"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
