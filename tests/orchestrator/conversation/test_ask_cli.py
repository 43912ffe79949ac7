"""`pepper-orchestrator ask` end to end: a real `run --demo` in rules mode on a temp data dir, found
by the CLI from `--data-dir` alone (it listens on a port the config does not name)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.processes import REPO_ROOT, PepperCli, child_env, free_port

pytestmark = pytest.mark.slow


def cli(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *arguments],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _chat_in_the_ui_gets_the_same_answer(data: Path) -> None:
    """Rules-mode chat (the UI's POST /chat) is answered by the same engine, before it returns."""
    port = json.loads((data / "ui.json").read_text())["port"]
    api = f"http://127.0.0.1:{port}/pepper/api"
    sent = httpx.post(
        f"{api}/chat", json={"text": "what are my reminders?"}, headers={"X-Pepper-CSRF": "1"}, timeout=30
    )
    assert sent.status_code == 202
    chat = httpx.get(f"{api}/state", timeout=30).json()["chat"]
    assert [m["role"] for m in chat[-2:]] == ["user", "assistant"]
    assert chat[-1]["text"].startswith("Your reminders:\n1. Stretch — "), chat[-1]["text"]


def test_ask_creates_a_reminder_in_the_running_demo_and_lists_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    pepper = PepperCli(["--demo", "--data-dir", str(data), "--port", str(free_port())], env)
    process, lines, running = pepper.process, pepper.lines, pepper.running
    try:
        assert running.wait(120), "".join(lines)
        created = cli(env, "ask", "--data-dir", str(data), "remind me in 2 hours to stretch")
        assert created.startswith("I'll remind you ") and created.rstrip().endswith(": Stretch"), created
        listed = cli(env, "ask", "--data-dir", str(data), "what are my reminders?")
        assert listed.startswith("Your reminders:\n1. Stretch — "), listed
        asked = cli(env, "ask", "--data-dir", str(data), "remind me to call Dana")
        assert asked.startswith("When should I remind you?"), asked
        _chat_in_the_ui_gets_the_same_answer(data)
        assert "rules" in cli(env, "status", "--data-dir", str(data))
        profile = cli(env, "profile", "show", "--data-dir", str(data))
        assert profile.startswith("Name: Alex Morgan") and "**" not in profile, profile
        pepper.interrupt()
    finally:
        pepper.kill_if_running()
    pepper.reader.join(timeout=10)
    assert process.returncode == 0, "".join(lines)
    assert not (data / "ui.json").exists(), "a stopped Pepper leaves no record of where it listened"


@pytest.mark.parametrize(
    ("text", "said"), [("   ", "nothing to ask"), ("x" * 20_001, "the request is 20001 characters long")]
)
def test_ask_refuses_an_empty_or_overlong_request_before_reaching_pepper(text: str, said: str) -> None:
    from orchestrator.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["ask", "--port", str(free_port()), text])
    assert str(refused.value).startswith(f"pepper-orchestrator ask: {said}")
