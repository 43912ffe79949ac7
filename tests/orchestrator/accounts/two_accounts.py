"""A real `pepper-orchestrator run` (rules mode) with two Maildir accounts: the default one in the
data directory and `[accounts.work]`, each holding one unread mail; handed over once both are triaged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from tests.support.pepper_run import wait_until
from tests.support.processes import PepperCli, child_env, free_port

TRIAGE_SECONDS = 120.0


@dataclass
class TwoAccounts:
    api: str
    url: str
    data: Path
    work_mail: Path
    work: dict[str, Any]  # the signal of the work mail
    home: dict[str, Any]  # the signal of the default account's mail


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


def signal_about(api: str, subject: str) -> dict[str, Any] | None:
    for item in httpx.get(f"{api}/state", timeout=60).json()["signals"]:
        if item["namespace"] == "signals.email" and subject in json.dumps(item["data"]):
            return item["data"]
    return None


@contextmanager
def two_account_pepper(tmp_path: Path) -> Iterator[TwoAccounts]:
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
        port = json.loads((data / "ui.json").read_text())["port"]
        api = f"http://127.0.0.1:{port}/pepper/api"
        work = wait_until(lambda: signal_about(api, "contract"), TRIAGE_SECONDS, "the work mail triaged")
        home = wait_until(lambda: signal_about(api, "dinner"), TRIAGE_SECONDS, "the home mail triaged")
        yield TwoAccounts(api, f"http://127.0.0.1:{port}/pepper/ui.html", data, work_mail, work, home)
    finally:
        pepper.interrupt()
