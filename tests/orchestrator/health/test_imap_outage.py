"""A real outage: Dovecot stops under a real gmail server on IMAP; the mail source turns red, one
alert reaches the notify server, doctor says the account fails, and one more alert comes when it is back.
And a password changed on the server: the login is refused, and the source is red at once, saying so."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.ingest import MailIngest
from orchestrator.health.account import STATUS_TOOL
from orchestrator.health.checks import Level
from orchestrator.health.probes import probe_server
from orchestrator.health.sources import HealthBook, SourceState
from orchestrator.mcp_clients import (
    ServerConnection,
    ServerSpec,
    ServerUnavailable,
    ToolCallFailed,
    ToolCallTimeout,
)
from tests.mcp_servers.gmail.dovecot import DOVECOT, Dovecot, running_dovecot
from tests.support.processes import child_env

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.servers("context", "notify"),
    pytest.mark.skipif(DOVECOT is None or os.geteuid() != 0, reason="needs dovecot-imapd and root"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _gmail_spec(dovecot: Dovecot, user: str, state: Path) -> ServerSpec:
    env = child_env(
        {
            "PEPPER_GMAIL_PROVIDER": "imap",
            "PEPPER_GMAIL_IMAP_HOST": "127.0.0.1",
            "PEPPER_GMAIL_IMAP_PORT": str(dovecot.port),
            "PEPPER_GMAIL_IMAP_SECURITY": "none",
            "PEPPER_GMAIL_IMAP_USERNAME": user,
            "PEPPER_GMAIL_IMAP_PASSWORD": "secret",
            "PEPPER_GMAIL_STATE_DIR": str(state),
        }
    )
    return ServerSpec(name="gmail", command=[sys.executable, "-m", "mcp_servers.gmail"], env=env)


def announcer(notify: ServerConnection) -> Callable[[str, str, str], Awaitable[None]]:
    """The health book's alert callback: a deduplicated notification through the notify server."""

    async def announce(title: str, body: str, key: str) -> None:
        await notify.call_tool("send_notification", {"title": title, "body": body, "dedupe_key": key})

    return announce


async def _titles(notify: ServerConnection) -> list[str]:
    listed = (await notify.call_tool("list_notifications", {"limit": 50})).structured or {}
    return [notification["title"] for notification in listed["notifications"]]


async def test_stopping_dovecot_turns_mail_red_alerts_once_and_recovers(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    clock = Clock()
    items = ContextItems(connections["context"])
    notify = connections["notify"]
    announce = announcer(notify)

    with running_dovecot() as dovecot:
        spec = _gmail_spec(dovecot, dovecot.add_user(), tmp_path / "state")
        gmail = ServerConnection(spec, call_timeout=20)
        book = HealthBook(items, clock)
        source = book.add("mail", interval=60, alert_after=900, connection=gmail)
        ingest = MailIngest(gmail, items)
        async with anyio.create_task_group() as tasks:
            await tasks.start(gmail.run)
            await book.record("mail", ingest.sync)
            assert source.state(clock.now)[0] is SourceState.OK

            dovecot.stop()
            with pytest.raises((ServerUnavailable, ToolCallFailed, ToolCallTimeout)):
                await book.record("mail", ingest.sync)
            [account_check] = [c for c in await probe_server(spec) if c.level is Level.FAIL]
            for _ in range(3):
                clock.now += 600
                await book.check(announce)
            down_reason = source.state(clock.now)

            dovecot.start()
            await book.record("mail", ingest.sync)
            await book.check(announce)
            await book.check(announce)
            tasks.cancel_scope.cancel()

    assert down_reason[0] is SourceState.FAILING, down_reason
    assert account_check.name in ("account gmail", "server gmail")
    assert await _titles(notify) == ["Pepper receives mail again", "Pepper stopped receiving mail"]


def _set_password(dovecot: Dovecot, user: str, password: str) -> None:
    """Change `user`'s password while Dovecot is stopped (it reads the passwd-file when it starts)."""
    passwd = dovecot.base / "passwd"
    lines = [
        f"{user}:{{PLAIN}}{password}" if line.startswith(f"{user}:") else line
        for line in passwd.read_text().splitlines()
    ]
    passwd.write_text("\n".join(lines) + "\n")


async def test_a_password_changed_on_the_server_turns_mail_red_at_once_saying_the_login_is_refused(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    clock = Clock()
    items = ContextItems(connections["context"])
    notify = connections["notify"]
    announce = announcer(notify)

    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        gmail = ServerConnection(_gmail_spec(dovecot, user, tmp_path / "state"), call_timeout=20)
        book = HealthBook(items, clock)
        source = book.add("mail", interval=60, alert_after=900, connection=gmail, status_tool=STATUS_TOOL)
        ingest = MailIngest(gmail, items)
        async with anyio.create_task_group() as tasks:
            await tasks.start(gmail.run)
            await book.record("mail", ingest.sync)
            dovecot.stop()
            _set_password(dovecot, user, "changed-elsewhere")
            dovecot.start()
            with pytest.raises(ToolCallFailed):
                await book.record("mail", ingest.sync)
            refused = source.state(clock.now)  # at once: waiting will not bring the old password back
            snapshot = book.snapshot()[0]
            for _ in range(3):
                clock.now += 600
                await book.check(announce)
            dovecot.stop()
            _set_password(dovecot, user, "secret")
            dovecot.start()
            await book.record("mail", ingest.sync)
            await book.check(announce)
            tasks.cancel_scope.cancel()

    assert refused[0] is SourceState.FAILING
    assert (
        refused[1].startswith("the account refused the credentials: IMAP server")
        and "rejected the login" in refused[1]
    )
    assert "setup imap" in snapshot["fix"] and snapshot["details"][0].endswith("(imap): failing")
    assert await _titles(notify) == ["Pepper receives mail again", "Pepper stopped receiving mail"]
