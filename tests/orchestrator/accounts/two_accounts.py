"""A real `pepper-orchestrator run` (rules mode) with two mail accounts: the default Maildir in the
data directory and `[accounts.work]` (a Maildir, or the IMAP or Gmail API account a test gives), each
holding one unread mail, and any further accounts a test adds (a calendar account); handed over once
both mails are triaged."""

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


WORK_MAIL = (
    ("Priya Shah", "priya@client.example"),
    "me@work.example",
    "Contract question",
    "Can you confirm the contract start date by Friday?",
)
HOME_MAIL = (("Dana Lee", "dana@example.org"), "me@home.example", "Dinner on Saturday?", "Free on Saturday?")


def message(name: str, sender: tuple[str, str], to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{sender[0]} <{sender[1]}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{name}@example.org>"
    mail["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    mail.set_content(body)
    return mail


def deliver(maildir: Path, name: str, sender: tuple[str, str], to: str, subject: str, body: str) -> None:
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{name}.eml").write_bytes(bytes(message(name, sender, to, subject, body)))


def signal_about(api: str, subject: str, namespace: str = "signals.email") -> dict[str, Any] | None:
    for item in httpx.get(f"{api}/state", timeout=60).json()["signals"]:
        if item["namespace"] == namespace and subject in json.dumps(item["data"]):
            return item["data"]
    return None


@contextmanager
def two_account_pepper(
    tmp_path: Path,
    work_table: str | None = None,
    more_accounts: str = "",
    *,
    default_table: str | None = None,
) -> Iterator[TwoAccounts]:
    """`work_table`: the `[accounts.work]` settings (default: a Maildir under `tmp_path/work-mail`
    holding `WORK_MAIL`; given, its mailbox must already hold `WORK_MAIL`). `default_table`, given:
    the `[accounts.default]` settings, whose mailbox must already hold `HOME_MAIL` (else the
    default account is the Maildir in the data directory, which gets it). `more_accounts`: further
    `[accounts.NAME]` tables. The default calendar is `tmp_path/data/calendar` (empty unless the test
    wrote .ics files there first)."""
    data, work_mail = tmp_path / "data", tmp_path / "work-mail"
    if default_table is None:
        deliver(data / "mail", "home1", *HOME_MAIL)
    if work_table is None:
        deliver(work_mail, "work1", *WORK_MAIL)
        work_table = f'kind = "maildir"\nmaildir = "{work_mail}"\n'
    config = tmp_path / "config.toml"
    config.write_text(
        'allow_send = true\nuser_addresses = ["me@home.example", "me@work.example"]\n'
        f'[accounts.work]\n{work_table}from_address = "me@work.example"\n{more_accounts}'
        + (f"[accounts.default]\n{default_table}" if default_table else "")
    )
    env = child_env({"PEPPER_CONFIG": str(config), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PEPPER_DATA_DIR"):
        env.pop(name, None)
    pepper = PepperCli(["--data-dir", str(data), "--port", str(free_port())], env)
    try:
        assert pepper.running.wait(120), pepper.stderr
        port = json.loads((data / "ui.json").read_text())["port"]
        api = f"http://127.0.0.1:{port}/pepper/api"
        work = wait_until(
            lambda: signal_about(api, "Contract question"), TRIAGE_SECONDS, "the work mail triaged"
        )
        home = wait_until(
            lambda: signal_about(api, "Dinner on Saturday"), TRIAGE_SECONDS, "the home mail triaged"
        )
        yield TwoAccounts(api, f"http://127.0.0.1:{port}/pepper/ui.html", data, work_mail, work, home)
    finally:
        pepper.interrupt()
