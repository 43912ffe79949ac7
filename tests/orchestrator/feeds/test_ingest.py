"""The ingest bridge copies a real Maildir, through the gmail server, into the context store."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.ingest import MailIngest

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "gmail")]


def deliver(tmp_path: Path, name: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "Dana Lee <dana@example.org>"
    message["To"] = "me@example.org"
    message["Subject"] = subject
    message["Message-ID"] = f"<{name}@example.org>"
    message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    message.set_content(body)
    (tmp_path / "mail" / "new" / f"{name}.eml").write_bytes(bytes(message))


async def test_mail_ingest_stores_each_message_once_and_resumes_from_its_cursor(
    connections, tmp_path: Path
) -> None:
    items = ContextItems(connections["context"])
    deliver(tmp_path, "one", "Budget", "Could you review the budget by Friday?")
    deliver(tmp_path, "two", "Lunch", "Lunch tomorrow?")
    ingest = MailIngest(connections["gmail"], items)
    assert await ingest.sync() == 2
    stored = await items.query(["raw.email"])
    assert sorted(item.data["subject"] for item in stored) == ["Budget", "Lunch"]
    assert "Could you review the budget" in next(i.text for i in stored if i.data["subject"] == "Budget")

    assert await ingest.sync() == 0  # nothing new: the saved cursor covers both
    deliver(tmp_path, "three", "Offsite", "Agenda attached.")
    restarted = MailIngest(connections["gmail"], items)  # a new process reads the cursor back
    assert await restarted.sync() == 1
    assert len(await items.query(["raw.email"])) == 3
