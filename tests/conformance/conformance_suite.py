"""Running the official MCP conformance suite against a server URL and reading its verdict.

The suite (`conformance server --url URL --expected-failures FILE`) exits non-zero when a scenario
fails that the file does not list, or when a listed scenario passes (a stale entry); it prints a
summary on stdout and writes each scenario's checks to `<output>/server-<scenario>-<time>/checks.json`.
`SuiteRun.report()` puts both together: the suite's summary and the message of every failed check.

Expected-failures files hold one list, `server:`, of scenario names, each followed on its line by a
`# reason` comment; `read_expected_failures` parses that restricted form and refuses anything else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conformance.node_tools import NodeTools, strip_ansi

EXPECTED_FAILURES_DIR = Path(__file__).parent / "expected-failures"
RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
ENTRY = re.compile(r"^  - (?P<scenario>[a-z0-9-]+)\s+#\s*(?P<reason>\S.*)$")
SUITE_TIMEOUT_S = 90.0


class ExpectedFailuresError(ValueError):
    """An expected-failures file that does not follow the documented form."""


@dataclass(frozen=True)
class ExpectedFailure:
    """A scenario the server is allowed to fail, and why."""

    scenario: str
    reason: str


@dataclass
class SuiteRun:
    """The outcome of one run of the suite against one server."""

    returncode: int
    stdout: str
    stderr: str
    checks: dict[str, list[dict]] = field(default_factory=dict)

    def failed_scenarios(self) -> list[str]:
        """Scenarios with at least one FAILURE check."""
        return sorted(name for name, checks in self.checks.items() if _has_failure(checks))

    def passed_scenarios(self) -> list[str]:
        """Scenarios whose checks all came back without a FAILURE."""
        return sorted(name for name, checks in self.checks.items() if not _has_failure(checks))

    def report(self) -> str:
        """The suite's own summary and verdict, then the message of every failed check."""
        summary = (
            self.stdout[self.stdout.find("=== SUMMARY ===") :]
            if "=== SUMMARY ===" in self.stdout
            else self.stdout
        )
        lines = [summary.strip(), "", "Failed checks (from checks.json):"]
        for scenario in self.failed_scenarios():
            for check in self.checks[scenario]:
                if check.get("status") == "FAILURE":
                    lines.append(f"  {scenario} [{check.get('id')}]: {check.get('errorMessage')}")
        if self.stderr.strip():
            lines += ["", "stderr:", self.stderr.strip()]
        return "\n".join(lines)


def _has_failure(checks: list[dict]) -> bool:
    return any(check.get("status") == "FAILURE" for check in checks)


def run_suite(tools: NodeTools, url: str, expected_failures: Path | None, output_dir: Path) -> SuiteRun:
    """Run the suite's active server scenarios against `url`, judged against `expected_failures`."""
    args = ["server", "--url", url, "--output-dir", str(output_dir)]
    if expected_failures is not None:
        args += ["--expected-failures", str(expected_failures)]
    process = tools.run(tools.conformance, args, cwd=output_dir, timeout=SUITE_TIMEOUT_S)
    return SuiteRun(
        returncode=process.returncode,
        stdout=strip_ansi(process.stdout),
        stderr=strip_ansi(process.stderr),
        checks=read_checks(output_dir),
    )


def read_checks(output_dir: Path) -> dict[str, list[dict]]:
    """Each scenario's checks, from the `checks.json` files the suite wrote under `output_dir`."""
    checks: dict[str, list[dict]] = {}
    for path in sorted(output_dir.glob("server-*/checks.json")):
        match = RESULT_DIR.match(path.parent.name)
        if match:
            checks[match["scenario"]] = json.loads(path.read_text())
    return checks


def list_server_scenarios(tools: NodeTools, cwd: Path) -> list[str]:
    """Names of every server scenario the installed suite knows (active and pending)."""
    process = tools.run(tools.conformance, ["list", "--server"], cwd=cwd, timeout=30.0)
    if process.returncode != 0:
        raise RuntimeError(f"conformance list failed: {process.stderr}")
    return re.findall(r"^\s+- ([a-z0-9-]+)", process.stdout, flags=re.MULTILINE)


def expected_failures_path(server: str) -> Path:
    """Where the expected-failures file of `server` lives (it may not exist)."""
    return EXPECTED_FAILURES_DIR / f"{server}.yml"


def read_expected_failures(path: Path) -> list[ExpectedFailure]:
    """The entries of an expected-failures file; `ExpectedFailuresError` on anything unexpected."""
    entries: list[ExpectedFailure] = []
    in_server_list = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.rstrip() == "server:":
            in_server_list = True
            continue
        match = ENTRY.match(line.rstrip())
        if not in_server_list or match is None:
            raise ExpectedFailuresError(
                f"{path.name}:{number}: expected 'server:' then '  - <scenario>  # <reason>', got {line!r}"
            )
        entries.append(ExpectedFailure(match["scenario"], match["reason"].strip()))
    return entries
