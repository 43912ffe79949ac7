"""Two Maildir accounts in one real `pepper-orchestrator run` (rules mode): the mail of both reaches
Now, each card and chat answer names its account, and a reply to mail of the second account leaves
through that account's own server (it lands in the second Maildir's Sent, never in the first's); the
second account may be IMAP (Dovecot) or the Gmail API (the emulator) as well."""

from __future__ import annotations

import base64
import imaplib
import os
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest

from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot
from tests.mcp_servers.gmail.gmail_emulator import GmailEmulator
from tests.mcp_servers.gmail.gmail_emulator import Mailbox as EmulatedMailbox
from tests.orchestrator.accounts.two_accounts import WORK_MAIL, message, two_account_pepper
from tests.support.pepper_run import wait_until

pytestmark = pytest.mark.slow
CSRF = {"X-Pepper-CSRF": "1"}
LIST_LINE = re.compile(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)')


def sent_files(maildir: Path) -> list[Path]:
    return [path for path in maildir.rglob("*") if path.is_file() and ".Sent" in path.parts]


def ask(api: str, text: str) -> str:
    answer = httpx.post(f"{api}/ask", json={"text": text}, headers=CSRF, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["reply"]


def approve_reply(api: str, request: str, server: str) -> None:
    """Ask the chat for a reply, find its one approval card, check it acts through `server`, approve it."""
    asked = ask(api, request)
    approvals = httpx.get(f"{api}/state", timeout=60).json()["approvals"]
    assert len(approvals) == 1, asked
    (pending,) = approvals
    assert (pending["server"], pending["tool"]) == (server, "reply")
    decided = httpx.post(
        f"{api}/approvals/{pending['id']}", json={"decision": "approve"}, headers=CSRF, timeout=60
    )
    assert decided.status_code == 200, decided.text


def gmail_api_account(emulator: GmailEmulator, tmp_path: Path) -> str:
    """An `[accounts.work]` table for a Gmail API account on `emulator`, holding `WORK_MAIL`."""
    emulator.deliver(bytes(message("work1", *WORK_MAIL)))
    token = tmp_path / "work-token.json"
    token.write_text(emulator.token_file_content())
    return (
        f'kind = "gmail"\ngmail_token_file = "{token}"\ngmail_api_endpoint = "{emulator.url}"\n'
        f'gmail_token_uri = "{emulator.url}token"\n'
    )


def test_two_maildir_accounts_merge_in_now_and_a_reply_leaves_through_its_own_account(tmp_path: Path) -> None:
    with two_account_pepper(tmp_path) as run:
        api = run.api
        assert (run.work["account"], run.home["account"]) == ("work", "default")
        assert run.work["source_id"].startswith("work:") and not run.home["source_id"].startswith("work:")
        state = httpx.get(f"{api}/state", timeout=60).json()
        assert state["status"]["accounts"] == ["default", "work"]
        assert "gmail.work" in state["status"]["settings"]["servers"]
        said = ask(api, "show me mail from Priya")
        assert "Contract question" in said and said.rstrip().endswith("· work"), said

        approve_reply(api, "tell Priya thanks, I will confirm the date today", "gmail.work")
        (sent,) = wait_until(
            lambda: sent_files(run.work_mail), 60, "the reply filed in the work account's Sent"
        )
        assert b"Subject: Re: Contract question" in sent.read_bytes()
        assert b"From: me@work.example" in sent.read_bytes()
        assert sent_files(run.data / "mail") == []


@pytest.mark.skipif(
    DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
)
def test_an_imap_account_beside_the_maildir_one_answers_through_dovecot(tmp_path: Path) -> None:
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        with imaplib.IMAP4("127.0.0.1", dovecot.port) as imap:
            imap.login(user, "secret")
            imap.append("INBOX", "", None, bytes(message("work1", *WORK_MAIL)))
        table = (
            f'kind = "imap"\nimap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
            f'imap_username = "{user}"\nimap_password = "secret"\n'
        )
        with two_account_pepper(tmp_path, table) as run:
            assert run.work["account"] == "work" and run.work["source_id"].startswith("work:")
            approve_reply(run.api, "tell Priya thanks, I will confirm the date today", "gmail.work")
            filed = wait_until(lambda: replies_in_imap(dovecot.port, user), 60, "the reply filed over IMAP")
            assert filed == ["Re: Contract question"]
            assert sent_files(run.data / "mail") == []


def test_a_gmail_api_account_beside_the_maildir_one_ingests_and_answers_through_the_api(
    tmp_path: Path,
) -> None:
    with GmailEmulator() as emulator:
        with two_account_pepper(tmp_path, gmail_api_account(emulator, tmp_path)) as run:
            assert (run.work["account"], run.home["account"]) == ("work", "default")
            assert run.work["source_id"].startswith("work:") and not run.home["source_id"].startswith("work:")
            said = ask(run.api, "show me mail from Priya")
            assert "Contract question" in said and said.rstrip().endswith("· work"), said
            approve_reply(run.api, "tell Priya thanks, I will confirm the date today", "gmail.work")
            assert emulator.wait_until(lambda box: bool(sent_through(box)), 60), "no reply reached the API"
            assert sent_through(emulator.mailbox) == ["Re: Contract question"]
            assert sent_files(run.data / "mail") == []


def sent_through(mailbox: EmulatedMailbox) -> list[str]:
    """Subjects of the messages the Gmail API was asked to send."""
    raws = [
        base64.urlsafe_b64decode(m["raw"]) for m in list(mailbox.messages.values()) if "SENT" in m["labelIds"]
    ]
    return [str(BytesParser(policy=policy.default).parsebytes(raw)["Subject"]) for raw in raws]


def replies_in_imap(port: int, user: str) -> list[str]:
    """Subjects of the mail in the account's folders other than INBOX (where a sent reply is filed)."""
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.login(user, "secret")
        subjects = []
        for line in imap.list()[1]:
            folder = LIST_LINE.match(line).group(1).decode().strip('"')  # (flags) "delimiter" name
            if folder.upper() == "INBOX" or imap.select(f'"{folder}"', readonly=True)[0] != "OK":
                continue
            for number in imap.search(None, "ALL")[1][0].split():
                header = imap.fetch(number, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0]
                subjects.append(header[1].decode().partition(":")[2].strip())
        return subjects
