"""Two Maildir accounts in one real `pepper-orchestrator run` (rules mode): the mail of both reaches
Now, each card and chat answer names its account, and a reply to mail of the second account leaves through that
account's own server (it lands in the second Maildir's Sent, never in the first's)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.pepper_run import wait_until
from tests.support.processes import PepperCli, child_env, free_port

pytestmark = pytest.mark.slow
CSRF = {"X-Pepper-CSRF": "1"}


def deliver(maildir: Path, name: str, sender: tuple[str, str], to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = f"{sender[0]} <{sender[1]}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{name}@example.org>"
    message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    message.set_content(body)
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{name}.eml").write_bytes(bytes(message))


def sent_files(maildir: Path) -> list[Path]:
    return [path for path in maildir.rglob("*") if path.is_file() and ".Sent" in path.parts]


def signal_about(api: str, subject: str) -> dict[str, Any] | None:
    for item in httpx.get(f"{api}/state", timeout=60).json()["signals"]:
        if item["namespace"] == "signals.email" and subject in json.dumps(item["data"]):
            return item["data"]
    return None


def test_two_maildir_accounts_merge_in_now_and_a_reply_leaves_through_its_own_account(tmp_path: Path) -> None:
    data, work_mail = tmp_path / "data", tmp_path / "work-mail"
    deliver(
        data / "mail",
        "home1",
        ("Dana Lee", "dana@example.org"),
        "me@home.example",
        "Dinner on Saturday?",
        "Are you free for dinner on Saturday?",
    )
    deliver(work_mail, "work1", ("Priya Shah", "priya@client.example"), "me@work.example",
            "Contract question", "Can you confirm the contract start date by Friday?")  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text(
        'allow_send = true\nuser_addresses = ["me@home.example", "me@work.example"]\n'
        f'[accounts.work]\nkind = "maildir"\nmaildir = "{work_mail}"\nfrom_address = "me@work.example"\n'
    )
    env = child_env({"PEPPER_CONFIG": str(config), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PEPPER_DATA_DIR"):
        env.pop(name, None)
    pepper = PepperCli(["--data-dir", str(data), "--port", str(free_port())], env)
    try:
        assert pepper.running.wait(120), pepper.stderr
        api = f"http://127.0.0.1:{json.loads((data / 'ui.json').read_text())['port']}/pepper/api"
        work = wait_until(lambda: signal_about(api, "contract"), 120, "the work mail triaged")
        home = wait_until(lambda: signal_about(api, "dinner"), 120, "the home mail triaged")
        assert (work["account"], home["account"]) == ("work", "default")
        assert work["source_id"].startswith("work:") and not home["source_id"].startswith("work:")
        state = httpx.get(f"{api}/state", timeout=60).json()
        assert state["status"]["accounts"] == ["default", "work"]
        assert "gmail.work" in state["status"]["settings"]["servers"]

        said = httpx.post(f"{api}/ask", json={"text": "show me mail from Priya"}, headers=CSRF, timeout=60)
        assert "Contract question" in said.json()["reply"] and "· work" in said.json()["reply"], said.text
        asked = httpx.post(
            f"{api}/ask",
            json={"text": "tell Priya thanks, I will confirm the date today"},
            headers=CSRF,
            timeout=60,
        )
        approvals = httpx.get(f"{api}/state", timeout=60).json()["approvals"]
        assert len(approvals) == 1, asked.text
        (pending,) = approvals
        assert (pending["server"], pending["tool"]) == ("gmail.work", "reply"), asked.text
        decided = httpx.post(
            f"{api}/approvals/{pending['id']}", json={"decision": "approve"}, headers=CSRF, timeout=60
        )
        assert decided.status_code == 200, decided.text
        (sent,) = wait_until(lambda: sent_files(work_mail), 60, "the reply filed in the work account's Sent")
        assert b"Subject: Re: Contract question" in sent.read_bytes()
        assert b"From: me@work.example" in sent.read_bytes()
        assert sent_files(data / "mail") == []
    finally:
        pepper.interrupt()
