"""The page header on a real outage, in Chromium: a real `pepper-orchestrator run` reads a real Dovecot
IMAP account, configured the way `pepper-orchestrator setup imap` writes it (`[servers.gmail]` with its
`env`). The header shows "mail: ok" with a green dot; the user's password is then changed on the server,
so the login is refused and the mail source turns red at once with the reason and what to do; with the
password put back, the header says "mail: ok" again. `status`, `doctor` and the alerts of the same
outage are tested without a browser in tests/orchestrator/health/test_imap_outage.py."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from orchestrator.config import load_settings
from orchestrator.setup_accounts import setup_account
from tests.mcp_servers.gmail.dovecot import DOVECOT, Dovecot, running_dovecot
from tests.support.processes import REPO_ROOT
from tests.web.conftest import DESKTOP, PepperProcess, new_context, pepper_env, screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(DOVECOT is None or os.geteuid() != 0, reason="needs dovecot-imapd and root"),
]

# Pepper looks at the mailbox when it changes and at least once a minute (orchestrator.app's
# MAIL_SYNC_SECONDS), and the page gets the health with its status every few seconds: a change on the
# server shows within that minute, give or take a loaded machine.
HEADER_WAIT_MS = 150_000


class ImapPepper:
    """Pepper on a Dovecot account, and the means to change the account's password behind its back."""

    def __init__(self, dovecot: Dovecot, user: str, pepper: PepperProcess) -> None:
        self.dovecot, self.user, self.pepper = dovecot, user, pepper

    def set_password(self, password: str) -> None:
        """Change the password on the server (Dovecot reads its passwd-file when it starts; the restart
        also drops Pepper's logged-in connections, so its next login meets the new password)."""
        self.dovecot.stop()
        passwd = self.dovecot.base / "passwd"
        lines = [
            f"{self.user}:{{PLAIN}}{password}" if line.startswith(f"{self.user}:") else line
            for line in passwd.read_text().splitlines()
        ]
        passwd.write_text("\n".join(lines) + "\n")
        self.dovecot.start()


@pytest.fixture(scope="module")  # before `browser`: setup runs its own event loop, Playwright holds one
def imap_pepper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapPepper]:
    root = tmp_path_factory.mktemp("health-header")
    config = root / "config.toml"
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        replies = iter(["127.0.0.1", user, str(dovecot.port), "none", f"{user}@home.example"])
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PEPPER_CONFIG", str(config))
            patch.setenv("PYTHONPATH", str(REPO_ROOT))  # setup's check starts the gmail server of this tree
            setup_account(
                "imap", load_settings(data_dir=root / "data"), config_file=config,
                ask=lambda prompt: next(replies), ask_secret=lambda prompt: "secret",
            )  # fmt: skip
        pepper = PepperProcess(root / "data", pepper_env(PEPPER_CONFIG=str(config)), [])
        try:
            pepper.start()
            yield ImapPepper(dovecot, user, pepper)
        finally:
            pepper.stop()


def mail_source(page: Page) -> Locator:
    return page.locator("#servers .health", has_text="mail:")


def test_a_refused_login_turns_mail_red_in_the_header_and_back_to_ok(
    imap_pepper: ImapPepper, browser
) -> None:
    context = new_context(browser, imap_pepper.pepper, viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(imap_pepper.pepper.page_url)
        mail = mail_source(page)
        expect(mail).to_contain_text("mail: ok", timeout=HEADER_WAIT_MS)
        expect(mail.locator(".dot")).to_have_class("dot connected")

        imap_pepper.set_password("changed-elsewhere")
        expect(mail).to_contain_text("mail: failing", timeout=HEADER_WAIT_MS)
        expect(mail.locator(".dot")).to_have_class("dot down")
        expect(mail.locator(".error")).to_contain_text("rejected the login")
        expect(mail.locator(".error")).to_contain_text("[AUTHENTICATIONFAILED] Authentication failed.;")
        expect(mail).to_have_attribute("title", re.compile("setup imap"))
        assert _label_lines(mail) == 1, "the long reason squeezes 'mail: failing' onto several lines"
        screenshot(page, "health-mail-refused")

        imap_pepper.set_password("secret")
        expect(mail).to_contain_text("mail: ok", timeout=HEADER_WAIT_MS)
        expect(mail.locator(".dot")).to_have_class("dot connected")
        expect(mail.locator(".error")).to_have_count(0)
    finally:
        context.close()


def _label_lines(source: Locator) -> int:
    """On how many lines the browser laid out the "mail: failing" label (its text node)."""
    return source.evaluate(
        """(li) => { const range = document.createRange();
             range.selectNode([...li.childNodes].find((node) => node.nodeType === Node.TEXT_NODE));
             return new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size; }"""
    )
