"""A `[[priority]]` rule from the config shows in the reasons of the card it changed: through the API
(`/pepper/api/state`) and on the page in Chromium. A real `pepper-orchestrator run` in rules mode
reads two mails from a Maildir: one from the boss (raised to urgent by the rule "boss") and one with
the boss's From but failed authentication (the rule matches, and says it did not raise it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import DESKTOP, HTTP_SECONDS, PepperProcess, new_context, pepper_env, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CONFIG = """
user_addresses = ["dana@home.example"]
[[priority]]
name = "boss"
sender = ["boss@corp.example"]
priority = "urgent"
"""
RAISED = "priority rule 'boss': from boss@corp.example"
NOT_RAISED = RAISED + "; not raised: the sender may be forged, or it looks like spam"
WAIT_SECONDS = 120.0


def deliver(maildir: Path, subject: str, authentication: str | None = None) -> None:
    mail = EmailMessage()
    mail["From"] = "Boss <boss@corp.example>"
    mail["To"] = "dana@home.example"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain="corp.example")
    if authentication:
        mail["Authentication-Results"] = authentication
    mail.set_content(f"{subject}. Thanks.")
    name = f"{time.time_ns()}.test.pepper-test"
    (maildir / "tmp" / name).write_bytes(bytes(mail))
    (maildir / "tmp" / name).rename(maildir / "new" / name)


@pytest.fixture(scope="module")
def pepper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PepperProcess]:
    root = tmp_path_factory.mktemp("priority")
    (root / "config.toml").write_text(CONFIG)
    maildir = root / "data" / "mail"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    deliver(maildir, "Board numbers by noon")
    deliver(
        maildir, "Wire the deposit today", "mx.home.example; spf=fail smtp.mailfrom=corp.example; dmarc=fail"
    )
    process = PepperProcess(root / "data", pepper_env(PEPPER_CONFIG=str(root / "config.toml")), [])
    try:
        process.start()
        yield process
    finally:
        process.stop()


def mail_signals(pepper: PepperProcess) -> dict[str, dict]:
    """The mail signals by summary, once both mails are triaged (polled: a child process's store)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        state = httpx.get(f"{pepper.url}/pepper/api/state", timeout=HTTP_SECONDS).raise_for_status().json()
        found = {
            i["data"]["summary"]: i["data"] for i in state["signals"] if i["namespace"] == "signals.email"
        }
        if len(found) == 2:
            return found
        assert time.monotonic() < deadline, f"mail not triaged\n{pepper.log()[-3000:]}"
        assert pepper.process is not None and pepper.process.poll() is None, pepper.log()[-3000:]
        time.sleep(0.2)  # between looks at another process's state: no event to wait on across it


def test_the_api_shows_the_rule_in_the_reasons_and_trust_stays_above_it(pepper: PepperProcess) -> None:
    signals = mail_signals(pepper)
    boss = next(s for summary, s in signals.items() if "Board numbers" in summary)
    forged = next(s for summary, s in signals.items() if "Wire the deposit" in summary)
    assert (boss["priority"], boss["reasons"][-1]) == ("urgent", RAISED)
    assert forged["priority"] != "urgent" and forged["reasons"][-1] == NOT_RAISED


def test_the_card_on_the_page_shows_the_rule(browser, pepper: PepperProcess) -> None:
    mail_signals(pepper)
    context = new_context(browser, pepper, viewport=DESKTOP)
    page: Page = context.new_page()
    try:
        page.goto(pepper.page_url)
        page.locator("#show-low").check()
        card = page.locator("#now-list .card", has_text="Board numbers")
        expect(card).to_contain_text(RAISED)
        expect(card.locator(".pill")).to_have_text("urgent")
        expect(page.locator("#now-list .card", has_text="Wire the deposit")).to_contain_text("not raised")
        screenshot(page, "priority-rule-reason")
    finally:
        context.close()
