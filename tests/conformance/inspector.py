"""Driving the MCP Inspector CLI against a Pepper server spawned over stdio.

`inspector --cli -e KEY=VALUE --cwd DIR <python -m module args> --method tools/list` spawns the
server itself, as a host would, with only the environment passed by `-e` (plus the basics the SDK
keeps: HOME, PATH...). It prints the JSON result on stdout; on failure it prints a JSON error
envelope and exits non-zero (5 when a tool returned `isError`, 6 when `--strict` finds a tool schema
that other hosts could not use).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conformance.node_tools import NodeTools, strip_ansi
from tests.support.processes import REPO_ROOT

INSPECTOR_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class InspectorResult:
    """What one Inspector CLI invocation printed and how it exited."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The parsed JSON the CLI printed; an AssertionError naming the command when it is not JSON."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"Inspector printed no JSON ({exc}):\n{self.describe()}") from exc

    def describe(self) -> str:
        """The command, exit code and output, for assertion messages."""
        return (
            f"$ inspector {' '.join(self.command)}\nexit {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def run_inspector(
    tools: NodeTools,
    module: str,
    server_args: list[str],
    method_args: list[str],
    env: dict[str, str],
    scratch: Path,
) -> InspectorResult:
    """Run `inspector --cli` over stdio against `python -m module server_args`, with `method_args`."""
    server_env = {"PYTHONPATH": str(REPO_ROOT), **env}
    env_flags = [flag for key, value in server_env.items() for flag in ("-e", f"{key}={value}")]
    command = [
        "--cli",
        *env_flags,
        "--cwd",
        str(REPO_ROOT),
        sys.executable,
        "-m",
        module,
        *server_args,
        *method_args,
    ]
    # The CLI keeps a catalog of servers (default ~/.mcp-inspector/mcp.json): keep it in scratch.
    process = tools.run(
        tools.inspector,
        command,
        cwd=scratch,
        timeout=INSPECTOR_TIMEOUT_S,
        env={"MCP_CATALOG_PATH": str(scratch / "inspector-catalog.json")},
    )
    return InspectorResult(
        command, process.returncode, strip_ansi(process.stdout), strip_ansi(process.stderr)
    )


def list_tools(tools: NodeTools, module: str, server_args: list[str], env: dict[str, str], scratch: Path):
    """`tools/list` with `--strict` (tool schemas portable across hosts)."""
    return run_inspector(tools, module, server_args, ["--method", "tools/list", "--strict"], env, scratch)


def call_tool(
    tools: NodeTools,
    module: str,
    server_args: list[str],
    env: dict[str, str],
    scratch: Path,
    name: str,
    arguments: dict[str, Any],
) -> InspectorResult:
    """`tools/call` of `name` with `arguments` passed as one JSON object."""
    method_args = ["--method", "tools/call", "--tool-name", name, "--tool-args-json", json.dumps(arguments)]
    return run_inspector(tools, module, server_args, method_args, env, scratch)
