"""Mail of two accounts, each served by its own real gmail server, lands in one context store: the
default account's with the provider's ids (as before), the other's scoped by account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import anyio
import pytest

from orchestrator.accounts.specs import account_server
from orchestrator.config import load_settings
from orchestrator.context_items import ContextItems
from orchestrator.feeds.ingest import CURSORS, MailIngest
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "gmail")]


def deliver(maildir: Path, name: str, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "Dana Lee <dana@example.org>"
    message["To"] = "me@example.org"
    message["Subject"] = subject
    message["Message-ID"] = f"<{name}@example.org>"
    message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    message.set_content(f"About {subject}.")
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{name}.eml").write_bytes(bytes(message))


@pytest.fixture
async def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServerConnection]:
    """The server of `[accounts.work]`, started exactly as Pepper would start it."""
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    config = tmp_path / "config.toml"
    config.write_text(f'[accounts.work]\nkind = "maildir"\nmaildir = "{tmp_path / "work-mail"}"\n')
    deliver(tmp_path / "work-mail", "w1", "Quarterly plan")
    server = account_server(load_settings(config, data_dir=tmp_path / "data"), "gmail.work")
    assert server is not None
    env = {**server.env, "PYTHONPATH": str(REPO_ROOT)}
    connection = ServerConnection(ServerSpec(name="gmail.work", command=server.argv(), env=env))
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        yield connection
        task_group.cancel_scope.cancel()


async def test_mail_of_two_accounts_is_stored_side_by_side_with_ids_and_cursors_per_account(
    connections, work: ServerConnection, tmp_path: Path
) -> None:
    items = ContextItems(connections["context"])
    deliver(tmp_path / "mail", "d1", "Lunch")
    assert await MailIngest(connections["gmail"], items).sync() == 1
    assert await MailIngest(work, items, account="work").sync() == 1

    stored = {item.data["subject"]: item for item in await items.query(["raw.email"])}
    lunch, plan = stored["Lunch"], stored["Quarterly plan"]
    assert lunch.data["account"] == "default" and "provider_id" not in lunch.data
    assert plan.id == f"work:{plan.data['provider_id']}" == plan.data["id"]
    assert plan.data["account"] == "work"
    assert await items.get(CURSORS, "gmail") is not None
    assert await items.get(CURSORS, "gmail.work") is not None
    got = (await work.call_tool("get_message", {"id": plan.data["provider_id"]})).structured or {}
    assert got["subject"] == "Quarterly plan"  # the provider id is what the account's server knows


async def test_data_stored_before_accounts_existed_keeps_its_ids_and_cursor(
    connections, tmp_path: Path
) -> None:
    """A data directory from the single-account format: items without `account`, cursor `gmail`."""
    items = ContextItems(connections["context"])
    deliver(tmp_path / "mail", "old", "Old news")
    first = MailIngest(connections["gmail"], items)
    await first.sync()
    (old,) = await items.query(["raw.email"])
    previous_format = {k: v for k, v in old.data.items() if k != "account"}
    await items.put("raw.email", old.id, previous_format, old.text)

    deliver(tmp_path / "mail", "new", "New news")
    assert await MailIngest(connections["gmail"], items).sync() == 1  # resumes from the saved cursor
    stored = {item.data["subject"]: item for item in await items.query(["raw.email"])}
    assert stored["Old news"].id == old.id and "account" not in stored["Old news"].data
    assert stored["New news"].id == stored["New news"].data["id"]  # unscoped: the default account
