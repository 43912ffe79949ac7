"""Third-party reference MCP servers from PyPI, each in a venv of its own (tools/mcp-reference/).

`make setup` builds the venvs (scripts/setup-mcp-reference.sh); `reference_server(name, program)`
runs that script first when a venv is missing, so a single test also works on a fresh checkout.
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
