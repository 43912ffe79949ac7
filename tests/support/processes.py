"""Starting Pepper's servers as real child processes for tests: stdio clients and HTTP servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fastmcp.client.transports import StdioTransport

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment plus `extra`, with the repo importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def stdio_transport(module: str, args: list[str], env: Mapping[str, str] | None = None) -> StdioTransport:
    """A FastMCP client transport that spawns `python -m module args` over stdio, one process per
    client, stopped as the client exits. (FastMCP's default `keep_alive=True` keeps the process for
    the next client, so a test's process was stopped only when its event loop closed, which cut the
    SDK's shutdown short: an unreaped child warned "subprocess is still running" at garbage
    collection and failed whichever test was running then.)"""
    return StdioTransport(
        command=sys.executable,
        args=["-m", module, *args],
        env=child_env(env),
        cwd=str(REPO_ROOT),
        keep_alive=False,
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until `port` accepts connections; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


@contextmanager
def http_server(
    module: str, args: list[str], env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Run `python -m module --transport http --port N args` and yield its MCP URL; stop it after."""
    port = port or free_port()
    command = [sys.executable, "-m", module, "--transport", "http", "--port", str(port), *args]
    process = subprocess.Popen(command, env=child_env(env), cwd=REPO_ROOT, start_new_session=True)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class PepperCli:
    """`python -m orchestrator.cli run ARGS` with its stderr collected line by line; `running` is set
    when it prints "Press Ctrl-C to stop." (the end of its start-up summary)."""

    def __init__(self, arguments: list[str], env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "run", *arguments],
            env=dict(env), cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.running = threading.Event()
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.lines.append(line)
                if line.startswith("Press Ctrl-C to stop."):
                    self.running.set()

    def interrupt(self, timeout: float = 60) -> None:
        """Ctrl-C, and wait for it to exit."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=timeout)

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
