"""In Chromium, the two account pairs of issue #17, each in one real `pepper-orchestrator run` (rules
mode) beside the default Maildir and ICS calendar: an IMAP mail account on a real Dovecot (sending
through a real SMTP submission server) with an ICS calendar account, and a Gmail API mail account on
the Gmail emulator with a CalDAV calendar account on a real Radicale.

Each test checks through the page: the account's mail is in Now on a card naming its account, the
calendar account's event is in Today's meetings naming its account, and a reply asked for in the chat
and approved on its approval card leaves through the mail account (its SMTP server and Sent folder, or
the Gmail API's send), never through the default Maildir. Cards are found by their `data-key`, which
holds the signal's or approval's id. The Search panel's cards name their account as well. Events are not checked for acceptance or creation: in rules mode
the page offers neither (the calendar's write tools are reached only by a model's tool calls).
"""

from __future__ import annotations

import imaplib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mcp_servers.calendar.radicale import calendar_of_new_user, running_radicale
from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot
from tests.mcp_servers.gmail.gmail_emulator import GmailEmulator
from tests.orchestrator.accounts.test_calendars import ics
from tests.orchestrator.accounts.test_two_accounts_run import (
    gmail_api_account,
    replies_in_imap,
    sent_files,
    sent_through,
)
from tests.orchestrator.accounts.two_accounts import (
    WORK_MAIL,
    TwoAccounts,
    message,
    signal_about,
    two_account_pepper,
)
from tests.support.pepper_run import wait_until
from tests.support.smtp_sink import running_submission_server
from tests.web.conftest import pepper_page, screenshot
from tests.web.test_ui import send_chat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
CALENDAR_SECONDS = 120.0  # for an account's event to be read and made a meeting signal
REPLY = "tell Priya thanks, I will confirm the date today"


def card(listing: str, key: str) -> str:
    """The selector of the card with `data-key` `key` in the list `listing` (an element id)."""
    return f'#{listing} li[data-key="{key}"]'


def meeting_signal(run: TwoAccounts, title: str) -> dict[str, Any]:
    return wait_until(
        lambda: signal_about(run.api, title, "signals.meeting"),
        CALENDAR_SECONDS,
        f"the meeting {title!r}",
        0.5,
    )


def soon(hours: int) -> datetime:
    """A time `hours` from now, in the next two days that Today shows, whatever the day."""
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=hours)


def check_cards(page, run: TwoAccounts, meetings: dict[str, dict[str, Any]]) -> None:
    """Now's mail cards and Today's meeting cards each name their account (`meetings`: account → signal),
    and each opens its mail or event, read through its own account's server."""
    from playwright.sync_api import expect

    for mail, account in ((run.work, "work"), (run.home, "default")):
        mail_card = page.locator(card("now-list", f"signal signals.email/{mail['source_id']}"))
        expect(mail_card.locator(".account")).to_have_text(account)
    work_card = page.locator(card("now-list", f"signal signals.email/{run.work['source_id']}"))
    work_card.get_by_role("button", name="Show the mail").click()
    expect(work_card.locator(".source")).to_contain_text(WORK_MAIL[3])
    for account, meeting in meetings.items():
        meeting_card = page.locator(card("meetings-list", f"signal signals.meeting/{meeting['source_id']}"))
        expect(meeting_card.locator(".title")).to_have_text(meeting["summary"])
        expect(meeting_card.locator(".account")).to_have_text(account)
        meeting_card.get_by_role("button", name="Show the event").click()
        expect(meeting_card.locator(".source")).to_contain_text(meeting["summary"])


def check_search(page, run: TwoAccounts, account: str, meeting: dict[str, Any]) -> None:
    """The Search panel's cards name their account too: the work mail's and the account's event's."""
    from playwright.sync_api import expect

    for query, key, named in (
        ("Contract question", f"signals.email/{run.work['source_id']}", "work"),
        (meeting["summary"], f"raw.calendar/{meeting['source_id']}", account),
    ):
        page.get_by_label("Search mail, calendar and notes").fill(query)
        page.get_by_label("Search mail, calendar and notes").press("Enter")
        expect(page.locator(card("search-list", f"search {key}")).locator(".account")).to_have_text(named)


def mark_work_mail_read(page, run: TwoAccounts) -> None:
    """ "Mark read" on the work mail's card, which reaches that account's mailbox."""
    from playwright.sync_api import expect

    work_card = page.locator(card("now-list", f"signal signals.email/{run.work['source_id']}"))
    work_card.get_by_role("button", name="Mark read").click()
    expect(page.locator("#toast")).to_have_text("Marked read in the mailbox")
    expect(work_card.get_by_role("button", name="Mark read")).to_have_count(0)


def seen_in_imap(port: int, user: str) -> bool:
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.login(user, "secret")
        imap.select("INBOX", readonly=True)
        return imap.search(None, "SEEN")[1][0].split() == [b"1"]


def approve_reply_in_page(page, run: TwoAccounts) -> None:
    """Ask for a reply to the work mail in the chat, check its approval card names the work account's
    server, and approve it there."""
    from playwright.sync_api import expect

    send_chat(page, REPLY)
    approvals = wait_until(
        lambda: httpx.get(f"{run.api}/state", timeout=60).json()["approvals"], 60, "the reply's approval", 0.2
    )
    (pending,) = approvals
    approval = page.locator(card("approvals-list", f"approval {pending['id']}"))
    expect(approval.locator(".title")).to_have_text("gmail.work · reply")
    approval.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast")).to_have_text("Approved and done")
    expect(approval).to_have_count(0)


@pytest.mark.skipif(
    DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
)
def test_an_imap_account_and_an_ics_calendar_account_in_one_pepper(browser, tmp_path: Path) -> None:
    (tmp_path / "data" / "calendar").mkdir(parents=True)
    (tmp_path / "data" / "calendar" / "personal.ics").write_text(ics(("gym", soon(2), "Gym session")))
    (tmp_path / "family.ics").write_text(ics(("play", soon(3), "School play")))
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        with imaplib.IMAP4("127.0.0.1", dovecot.port) as imap:
            imap.login(user, "secret")
            imap.append("INBOX", "", None, bytes(message("work1", *WORK_MAIL)))
        with running_submission_server(user, "secret") as smtp:
            table = (
                f'kind = "imap"\nimap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
                f'imap_username = "{user}"\nimap_password = "secret"\n'
                f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsmtp_security = "none"\n'
            )
            family = f'[accounts.family]\nkind = "ics"\nics = ["{tmp_path / "family.ics"}"]\n'
            with two_account_pepper(tmp_path, table, family) as run, pepper_page(browser, run.url) as page:
                meetings = {
                    "family": meeting_signal(run, "School play"),
                    "default": meeting_signal(run, "Gym"),
                }
                check_cards(page, run, meetings)
                check_search(page, run, "family", meetings["family"])
                screenshot(page, "account-pair-imap-ics")
                mark_work_mail_read(page, run)
                assert wait_until(
                    lambda: seen_in_imap(dovecot.port, user), 30, "the work mail \\Seen in Dovecot"
                )
                approve_reply_in_page(page, run)
                (sent,) = wait_until(lambda: smtp.received, 60, "the reply at the IMAP account's SMTP server")
                assert (sent.login, sent.mail_from, sent.recipients) == (
                    user,
                    "me@work.example",
                    [WORK_MAIL[0][1]],
                )
                assert sent.message["Subject"] == "Re: Contract question"
                assert sent.message["In-Reply-To"] == "<work1@example.org>"
                filed = wait_until(
                    lambda: replies_in_imap(dovecot.port, user), 60, "the reply in the IMAP Sent"
                )
                assert filed == ["Re: Contract question"]
                assert sent_files(run.data / "mail") == []


def test_a_gmail_api_account_and_a_caldav_calendar_account_in_one_pepper(browser, tmp_path: Path) -> None:
    (tmp_path / "data" / "calendar").mkdir(parents=True)
    (tmp_path / "data" / "calendar" / "personal.ics").write_text(ics(("gym", soon(2), "Gym session")))
    with GmailEmulator() as emulator, running_radicale(tmp_path / "radicale") as radicale:
        table = gmail_api_account(emulator, tmp_path)
        user, _ = calendar_of_new_user(radicale, ics(("client", soon(3), "Client call")))
        team = (
            f'[accounts.team]\nkind = "caldav"\ncaldav_url = "{radicale}"\ncaldav_username = "{user}"\n'
            'caldav_password = "x"\n'
        )
        with two_account_pepper(tmp_path, table, team) as run, pepper_page(browser, run.url) as page:
            meetings = {"team": meeting_signal(run, "Client call"), "default": meeting_signal(run, "Gym")}
            check_cards(page, run, meetings)
            check_search(page, run, "team", meetings["team"])
            screenshot(page, "account-pair-gmail-caldav")
            mark_work_mail_read(page, run)
            unread = [m for m in emulator.mailbox.messages.values() if "UNREAD" in m["labelIds"]]
            assert unread == [], "the work mail is still unread in the Gmail API"
            approve_reply_in_page(page, run)
            assert emulator.wait_until(lambda box: bool(sent_through(box)), 60), "no reply reached the API"
            assert sent_through(emulator.mailbox) == ["Re: Contract question"]
            assert sent_files(run.data / "mail") == []
