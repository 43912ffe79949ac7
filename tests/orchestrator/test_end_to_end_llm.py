"""The whole app in LLM mode: the real `pepper-orchestrator run --demo` child process with its real MCP
server children, talking over real HTTP to the scripted OpenAI-compatible model.

One run checks, in order: LLM mode is announced; triage requests reach the model and its verdicts
land as signals; the profile learned from the demo mail (projects too) is in the scheduler's prompt;
a chat message gets the model's reply; profile commands from chat and from the CLI change the
profile; a reply the model drafts waits for approval (a signed card that says the user asked, shown by
`status`, refused with a stale digest) and is sent only once approved; Ctrl-C stops
Pepper and every server it started. Pepper's clock is pinned (libfaketime, `tests/support/clock.py`):
the demo it generates, and what it makes of it, depend on the day.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.orchestrator.test_cli_run import alive, children_of
from tests.support.clock import PinnedClock
from tests.support.processes import REPO_ROOT, child_env, free_port
from tests.support.scripted_llm import ScriptedLLM, Step, offered_tools, scripted_llm_server, tool_arguments
from tests.web.brain import ScriptedPepperModel

# Generous: the run starts Pepper, waits for it to read the demo through the model, and stops it.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SUBJECT = re.compile(r"^Subject: (.*)$", re.M)
WAIT_SECONDS = 45.0
READ_SECONDS = 300.0  # until the first page of the demo is triaged by the model: minutes on a loaded machine


class EndToEndModel(ScriptedPepperModel):
    """The browser tests' model (chat echo, drafted replies, urgent notifications) plus triage: every
    email gets a `record_triage` verdict whose summary starts "LLM verdict:"."""

    def __call__(self, request: dict[str, Any]) -> Step:
        if "record_triage" in offered_tools(request):
            prompt = str(request["messages"][-1]["content"])
            subject = (SUBJECT.findall(prompt) or ["(none)"])[-1]
            verdict = {
                "priority": "normal",
                "category": "fyi",
                "summary": f"LLM verdict: {subject}"[:200],
                "reasons": ["the scripted model read it"],
            }
            return Step(tool_calls=[("record_triage", tool_arguments(**verdict))])
        return super().__call__(request)


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class RunningPepper:
    def __init__(self, tmp_path: Path, llm: ScriptedLLM) -> None:
        self.port = free_port()
        self.data = tmp_path / "data"
        self.log_path = tmp_path / "pepper.log"
        self.env = child_env(
            {
                "PEPPER_CONFIG": str(tmp_path / "absent.toml"),
                "PEPPER_CONTEXT_EMBEDDER": "none",
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "test",
                "PEPPER_MODEL": "scripted",
                "PEPPER_UI_PORT": str(self.port),
            }
        )
        for name in ("PEPPER_UI_TOKEN", "PEPPER_UI_HOST"):
            self.env.pop(name, None)
        self.env = PinnedClock().env(self.env)
        command = [sys.executable, "-m", "orchestrator.cli", "run", "--demo", "--data-dir", str(self.data)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=REPO_ROOT, stdout=log, stderr=log, start_new_session=True
            )
        self.api = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}/pepper/api",
            headers={"X-Pepper-CSRF": "1"},
            timeout=WAIT_SECONDS,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def started(self) -> bool:
        assert self.process.poll() is None, f"Pepper exited early:\n{self.log()[-3000:]}"
        return "Pepper is running." in self.log()

    def state(self) -> dict[str, Any]:
        return self.api.get("/state").raise_for_status().json()

    def cli(self, *arguments: str, ok: bool = True) -> str:
        """`pepper-orchestrator ARGUMENTS`: its output, or with `ok=False` its error (it must fail)."""
        command = [sys.executable, "-m", "orchestrator.cli", *arguments]
        done = subprocess.run(
            command, env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
        )
        assert (done.returncode == 0) is ok, done.stderr
        return done.stdout if ok else done.stderr

    def sent_containing(self, text: str) -> list[str]:
        folder = self.data / "mail" / ".Sent"
        files = [*folder.glob("cur/*"), *folder.glob("new/*")]
        return [body for path in files if text in (body := path.read_text(errors="replace"))]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[RunningPepper, ScriptedLLM]]:
    with scripted_llm_server(responder=EndToEndModel()) as llm:
        pepper = RunningPepper(tmp_path, llm)
        try:
            yield pepper, llm
        finally:
            if pepper.process.poll() is None:
                os.killpg(pepper.process.pid, signal.SIGKILL)  # failed before its Ctrl-C: servers too
                pepper.process.wait()
            pepper.api.close()


def test_pepper_runs_end_to_end_in_llm_mode_and_stops_cleanly(running) -> None:
    pepper, llm = running
    wait_for("start-up", pepper.started, timeout=90)
    assert f"LLM mode (scripted at {llm.base_url})" in pepper.log()
    assert pepper.state()["status"]["mode"] == "llm"

    def llm_signals() -> list[dict]:
        signals = [item["data"] for item in pepper.state()["signals"] if item["namespace"] == "signals.email"]
        return [s for s in signals if s["summary"].startswith("LLM verdict: ")]

    judged = wait_for("signals with the model's verdicts", llm_signals, timeout=READ_SECONDS)
    assert all(s["engine"] == "llm" and s["reasons"] == ["the scripted model read it"] for s in judged)
    assert any("record_triage" in offered_tools(request) for request in llm.requests)
    _check_profile_in_prompts(pepper, llm)
    _check_chat_and_profile_commands(pepper)
    _check_drafted_reply_waits_for_approval(pepper)
    _check_ctrl_c_stops_everything(pepper)


def _check_profile_in_prompts(pepper: RunningPepper, llm: ScriptedLLM) -> None:
    def about_the_user() -> list[str]:
        return [
            message["content"]
            for request in list(llm.requests)
            if "send_to_user" in offered_tools(request)
            for message in request["messages"]
            if message["role"] == "system" and "Projects: " in (message.get("content") or "")
        ]

    # The profile grows as the sent mail is read, so an early prompt may name only some projects:
    # wait for one that names the demo's Northwind project; every prompt keeps to the limit.
    wait_for(
        "the profile with the Northwind project in a scheduler prompt",
        lambda: [about for about in about_the_user() if "Northwind" in about],
        READ_SECONDS,
    )
    for about in about_the_user():
        assert about.startswith("About the user:\nThe user: Alex Morgan, Head of Product (alex@pepper.demo).")
        assert len(about) <= 1600


def _check_chat_and_profile_commands(pepper: RunningPepper) -> None:
    assert pepper.api.post("/chat", json={"text": "hello end to end"}).status_code == 202
    wait_for(
        "the model's chat reply",
        lambda: any(m["text"] == "You said: **hello end to end**" for m in pepper.state()["chat"]),
    )
    pepper.api.post("/chat", json={"text": "remember that Jordan is my manager"}).raise_for_status()
    wait_for(
        "the profile command's answer",
        lambda: any(m["text"] == "I'll remember that Jordan is my manager." for m in pepper.state()["chat"]),
    )
    assert pepper.cli("profile", "project", "add", "Moonshot") == (
        "Added the project Moonshot: mail that names it gets more attention.\n"
    )
    assert pepper.cli("profile", "project", "rename", "Moonshot", "Moonshot Two") == (
        "Renamed the project Moonshot to Moonshot Two.\n"
    )
    refused = pepper.cli("profile", "vip", "add", "not-an-address", ok=False)
    assert "pepper-orchestrator profile: 'not-an-address' is not an email address" in refused
    shown = pepper.cli("profile", "show")
    assert "Name: Alex Morgan (learned from your mail)" in shown and "- Moonshot Two (yours)" in shown
    assert "**" not in shown, "the terminal gets plain text, not markdown"
    assert "- Jordan is my manager" in shown and re.search(r"- Northwind \(\d+ threads, active\)", shown)


def _check_drafted_reply_waits_for_approval(pepper: RunningPepper) -> None:
    def original_mail() -> dict | None:
        signals = [item["data"] for item in pepper.state()["signals"] if item["namespace"] == "signals.email"]
        return next((s for s in signals if "Atlas pricing before the board" in s["summary"]), None)

    original = wait_for("the signal of the CEO's mail", original_mail)
    body = f"Yes, Wednesday at 3pm works. ({time.time_ns()})"
    pepper.api.post("/chat", json={"text": f"Please reply to message {original['source_id']}: {body}"})

    def pending() -> list[dict]:
        return [a for a in pepper.state()["approvals"] if a["arguments"].get("body") == body]

    [action] = wait_for("the drafted reply to wait for approval", pending)
    assert (action["server"], action["tool"], action["status"]) == ("gmail", "reply", "pending")
    assert pepper.sent_containing(body) == [], "the reply went out before it was approved"
    assert (action["verification"], action["preview"]["kind"], action["count"]) == ("signed", "email", 1)
    assert action["provenance"]["requested_by"] == "user" and body in action["provenance"]["user_message"]
    assert f"Digest: {action['digest'][:12]}" in pepper.cli("status")
    stale = pepper.api.post(f"/approvals/{action['id']}", json={"decision": "approve", "digest": "0" * 64})
    assert stale.status_code == 409 and "is not what you were shown" in stale.json()["error"]
    decided = pepper.api.post(
        f"/approvals/{action['id']}", json={"decision": "approve", "digest": action["digest"]}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "done", decided.text
    assert len(pepper.sent_containing(body)) == 1


def _check_ctrl_c_stops_everything(pepper: RunningPepper) -> None:
    servers = children_of(pepper.process.pid)
    assert len(servers) == 4, f"expected the four servers as children, found {servers}"
    pepper.process.send_signal(signal.SIGINT)
    assert pepper.process.wait(timeout=60) == 0, pepper.log()[-3000:]
    assert "Pepper stopped." in pepper.log() and "Traceback" not in pepper.log()
    wait_for("every server to exit", lambda: not [pid for pid in servers if alive(pid)], timeout=10)
