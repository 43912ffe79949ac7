"""Two Maildir accounts in one real `pepper-orchestrator run` (rules mode): the mail of both reaches
Now, each card and chat answer names its account, and a reply to mail of the second account leaves
through that account's own server (it lands in the second Maildir's Sent, never in the first's)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.orchestrator.accounts.two_accounts import two_account_pepper
from tests.support.pepper_run import wait_until

pytestmark = pytest.mark.slow
CSRF = {"X-Pepper-CSRF": "1"}


def sent_files(maildir: Path) -> list[Path]:
    return [path for path in maildir.rglob("*") if path.is_file() and ".Sent" in path.parts]


def ask(api: str, text: str) -> str:
    answer = httpx.post(f"{api}/ask", json={"text": text}, headers=CSRF, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["reply"]


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

        asked = ask(api, "tell Priya thanks, I will confirm the date today")
        approvals = httpx.get(f"{api}/state", timeout=60).json()["approvals"]
        assert len(approvals) == 1, asked
        (pending,) = approvals
        assert (pending["server"], pending["tool"]) == ("gmail.work", "reply")
        decided = httpx.post(
            f"{api}/approvals/{pending['id']}", json={"decision": "approve"}, headers=CSRF, timeout=60
        )
        assert decided.status_code == 200, decided.text
        (sent,) = wait_until(
            lambda: sent_files(run.work_mail), 60, "the reply filed in the work account's Sent"
        )
        assert b"Subject: Re: Contract question" in sent.read_bytes()
        assert b"From: me@work.example" in sent.read_bytes()
        assert sent_files(run.data / "mail") == []
