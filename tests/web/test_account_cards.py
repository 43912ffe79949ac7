"""In Chromium, with two mail accounts in one Pepper, each card in Now names the account its mail came to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.orchestrator.accounts.two_accounts import two_account_pepper
from tests.web.conftest import ARTIFACTS, pepper_page

pytestmark = pytest.mark.slow


def test_each_now_card_names_its_account_when_there_are_two(browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with two_account_pepper(tmp_path) as run, pepper_page(browser, run.url) as page:
        work = page.locator("#now-list li.card", has_text="Contract question")
        home = page.locator("#now-list li.card", has_text="Dinner on Saturday")
        expect(work.locator(".account")).to_have_text("work")
        expect(home.locator(".account")).to_have_text("default")
        waiting = page.locator("#waiting-list li.card", has_text="Contract question")
        expect(waiting.locator(".account")).to_have_text("work")  # Today's "Waiting on you" too
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "account-cards.png"))
