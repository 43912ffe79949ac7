"""A correction changes Now in a running Pepper: `run --demo` in rules mode, `pepper-orchestrator
correct` from the CLI, the page's API and the chat agreeing on the list; "Mark read" sets \\Seen in
the demo's Maildir (its gmail server runs with --allow-write)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.demo.people import MANAGER
from orchestrator.triage.now import now_list
from tests.support.pepper_run import wait_until
from tests.support.processes import REPO_ROOT, PepperCli, child_env, free_port

pytestmark = pytest.mark.slow
URGENT = "URGENT: Atlas numbers for the board deck"
BUDGET = "Q4 budget template due tomorrow 5pm"
READ_DEMO_SECONDS = 240.0


def cli(env: dict[str, str], data: Path, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *arguments, "--data-dir", str(data)],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def now_ids(api: str) -> list[str]:
    signals = [item["data"] for item in httpx.get(f"{api}/state", timeout=60).json()["signals"]]
    return [signal["source_id"] for signal in now_list(signals)[0]]


def mail_signal(api: str, subject: str) -> dict[str, Any] | None:
    for item in httpx.get(f"{api}/state", timeout=60).json()["signals"]:
        if item["namespace"] == "signals.email" and subject in item["data"]["summary"]:
            return item["data"]
    return None


def seen_in_maildir(data: Path, subject: str) -> bool:
    for path in (data / "mail" / "cur").glob("*"):
        if subject.encode() in path.read_bytes():
            return "S" in path.name.partition(":2,")[2]
    return False


def test_a_correction_from_the_cli_changes_now_and_mark_read_sets_seen(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    pepper = PepperCli(["--demo", "--data-dir", str(data), "--port", str(free_port())], env)
    try:
        assert pepper.running.wait(120), pepper.stderr
        api = f"http://127.0.0.1:{json.loads((data / 'ui.json').read_text())['port']}/pepper/api"
        urgent = wait_until(lambda: mail_signal(api, URGENT), READ_DEMO_SECONDS, "the urgent mail triaged")
        budget = wait_until(lambda: mail_signal(api, BUDGET), READ_DEMO_SECONDS, "the budget mail triaged")
        assert urgent["source_id"] in now_ids(api) and budget["source_id"] in now_ids(api)
        assert len(now_ids(api)) <= 15
        assert URGENT in cli(env, data, "ask", "what is urgent?")

        said = cli(env, data, "correct", "not-important", urgent["source_id"])
        assert said.startswith(f"Noted: mail like this from {MANAGER.email} is not important"), said
        assert urgent["source_id"] not in now_ids(api)
        assert URGENT not in cli(env, data, "ask", "what is urgent?")
        cli(env, data, "correct", "important", MANAGER.email)
        assert urgent["source_id"] in now_ids(api)

        marked = httpx.post(
            f"{api}/mail/{budget['source_id']}/read", headers={"X-Pepper-CSRF": "1"}, timeout=60
        )
        assert marked.json() == {"marked": "mailbox"}
        assert budget["source_id"] not in now_ids(api)
        wait_until(lambda: seen_in_maildir(data, BUDGET), 30, "the S flag on the budget mail in the Maildir")
        pepper.interrupt()
    finally:
        pepper.kill_if_running()
    pepper.reader.join(timeout=10)
    assert pepper.process.returncode == 0, pepper.stderr
