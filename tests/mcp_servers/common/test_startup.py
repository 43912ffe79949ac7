"""Start-up errors the user can fix, from real server processes: one line on stderr naming the problem
and the fix, exit status 2, and the traceback only with `--log-level DEBUG`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_servers.common.startup import EXIT_STARTUP, StartupError, user_message
from tests.support.processes import REPO_ROOT, child_env, free_port
from tests.support.raw_jsonrpc import SERVERS


def start(
    server: str, folder: Path, *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    recipe = SERVERS[server]
    return subprocess.run(
        [sys.executable, "-m", recipe.module, *recipe.arguments(folder), "--transport", "http", *arguments],
        env=child_env({**recipe.env, **(env or {})}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(done: subprocess.CompletedProcess, expected: str) -> None:
    assert done.returncode == EXIT_STARTUP, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == expected


def test_user_message_finds_a_startup_error_inside_exception_groups() -> None:
    nested = BaseExceptionGroup("outer", [ExceptionGroup("inner", [StartupError("port 1 is busy")])])
    assert user_message(nested) == "port 1 is busy"
    assert user_message(SystemExit("no calendar configured")) == "no calendar configured"
    assert user_message(ExceptionGroup("bug", [ValueError("x")])) is None
    assert user_message(SystemExit(0)) is None


@pytest.mark.slow
def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = start("context_store", tmp_path, "--port", str(port))
    assert_one_line(
        done,
        f"pepper-context-store: port {port} on 127.0.0.1 is already in use: stop the program listening "
        "there (`ss -ltnp` shows it) or choose another --port",
    )


@pytest.mark.slow
def test_missing_token_off_loopback_is_one_line(tmp_path: Path) -> None:
    done = start("gmail", tmp_path, "--host", "0.0.0.0", "--port", str(free_port()))
    assert_one_line(
        done,
        "pepper-gmail: refusing to serve MCP over HTTP on 0.0.0.0 without a token: set the server's *_TOKEN "
        "environment variable, or bind to 127.0.0.1",
    )


@pytest.mark.slow
def test_allowed_host_names_without_a_token_are_one_line(tmp_path: Path) -> None:
    done = start(
        "notify", tmp_path, "--port", str(free_port()), env={"PEPPER_NOTIFY_ALLOWED_HOSTS": "pepper.lan"}
    )
    assert_one_line(
        done,
        "pepper-notify: refusing to serve MCP over HTTP on 127.0.0.1 for the hosts pepper.lan without a token: "
        "set the server's *_TOKEN environment variable, or bind to 127.0.0.1 and allow no other host names",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (
            "203.0.113.7",
            "--host 203.0.113.7 is not an address of this machine: use 127.0.0.1 or one of its own IPs",
        ),
        ("no-such-host.invalid", "--host 'no-such-host.invalid' is not an address of this machine"),
    ],
)
def test_bad_host_is_one_line(tmp_path: Path, host: str, expected: str) -> None:
    # A token, so that the bind itself is tried (without one, a public host stops earlier).
    done = start(
        "calendar", tmp_path, "--host", host, "--port", str(free_port()), env={"PEPPER_CALENDAR_TOKEN": "t"}
    )
    assert done.returncode == EXIT_STARTUP and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"pepper-calendar: {expected}")


@pytest.mark.slow
def test_debug_log_level_adds_the_traceback(tmp_path: Path) -> None:
    done = start("gmail", tmp_path, "--host", "0.0.0.0", "--log-level", "DEBUG")
    assert done.returncode == EXIT_STARTUP
    assert "Traceback" in done.stderr and "StartupError" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("pepper-gmail: refusing to serve MCP over HTTP")
