"""The chat's keyword search of mail asks every mail account's own server (its index is the one
keyword index of mail) and merges the answers newest first, each message naming its account."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from tests.orchestrator.accounts.test_calendars import PINNED, account_connection

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "gmail")]


def deliver(root: Path, name: str, sender: str, subject: str, hours_ago: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "me@example.com", subject
    message["Date"] = format_datetime(PINNED - timedelta(hours=hours_ago))
    message["Message-ID"] = f"<{name}@example.com>"
    message.set_content(f"{subject}: see the attached figures.")
    for folder in ("cur", "new", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "new" / f"{name}.eml").write_bytes(bytes(message))


async def test_mail_about_a_topic_is_found_in_every_account_newest_first(connections, tmp_path: Path) -> None:
    deliver(tmp_path / "mail", "m1", "Dana <dana@example.com>", "Atlas pricing", hours_ago=5)
    deliver(tmp_path / "work-mail", "w1", "Tom <tom@work.example>", "Pricing review for Atlas", hours_ago=1)
    deliver(tmp_path / "work-mail", "w2", "Tom <tom@work.example>", "Lunch", hours_ago=2)
    table = f'[accounts.work]\nkind = "maildir"\nmaildir = "{tmp_path / "work-mail"}"\n'
    async with account_connection(tmp_path, table, "gmail.work") as work:
        services = Services({**connections, "gmail.work": work}, ContextItems(connections["context"]))
        answer = (await Conversation(services, lambda: PINNED).answer("find mail about pricing")).text
    lines = answer.splitlines()
    assert lines[0] == "Mail about pricing:"
    assert lines[1].startswith("1. **Tom** — Pricing review for Atlas") and lines[1].endswith("· work")
    assert lines[2].startswith("2. **Dana** — Atlas pricing") and lines[2].endswith("· default")
    assert "Lunch" not in answer
