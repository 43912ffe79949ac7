"""Real outages of a Gmail API account under a real gmail server (a child process) on the Gmail
emulator and its OAuth token endpoint: a revoked token and a push watch whose renewal fails until it
lapses. Each time the mail source turns red with the reason in `status`, doctor fails the account,
exactly one alert reaches the notify server, and one more when it is back."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.ingest import MailIngest
from orchestrator.health.account import STATUS_TOOL
from orchestrator.health.checks import Check, Level
from orchestrator.health.probes import probe_server
from orchestrator.health.sources import HealthBook, SourceHealth, SourceState
from orchestrator.mcp_clients import ServerConnection, ServerSpec, ToolCallFailed
from orchestrator.remote import _status_lines
from tests.mcp_servers.gmail.gmail_emulator import GmailEmulator, Mailbox
from tests.mcp_servers.gmail.messages import plain_message
from tests.support.processes import child_env

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "notify")]
TOPIC = "projects/pepper-test/topics/gmail"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def gmail_spec(emulator: GmailEmulator, state: Path, **env: str) -> ServerSpec:
    """The gmail server on the emulator, as Pepper would start it (its token written in `state`)."""
    settings = emulator.settings(state)
    variables = {
        "PEPPER_GMAIL_PROVIDER": "gmail",
        "PEPPER_GMAIL_STATE_DIR": str(settings.state_dir),
        "PEPPER_GMAIL_GMAIL_API_ENDPOINT": str(settings.gmail_api_endpoint),
        "PEPPER_GMAIL_GMAIL_TOKEN_URI": str(settings.gmail_token_uri),
        "PEPPER_GMAIL_POLL_SECONDS": "3600",
        **env,
    }
    return ServerSpec(
        name="gmail", command=[sys.executable, "-m", "mcp_servers.gmail"], env=child_env(variables)
    )


class Watched:
    """A mail source over a live gmail server, its health book on a test clock, and the alerts."""

    def __init__(self, gmail: ServerConnection, connections: dict[str, ServerConnection]) -> None:
        self.clock = Clock()
        self.book = HealthBook(ContextItems(connections["context"]), self.clock)
        self.source: SourceHealth = self.book.add("mail", 60, 900, gmail, STATUS_TOOL)
        self.ingest = MailIngest(gmail, ContextItems(connections["context"]))
        self.notify = connections["notify"]

    async def sync(self) -> None:
        await self.book.record("mail", self.ingest.sync)

    async def announce(self, title: str, body: str, key: str) -> None:
        await self.notify.call_tool("send_notification", {"title": title, "body": body, "dedupe_key": key})

    async def checks(self, times: int, step: float = 600) -> None:
        for _ in range(times):
            self.clock.now += step
            await self.book.check(self.announce)

    def status(self) -> str:
        return "\n".join(
            _status_lines({"mode": "rules", "model": None, "servers": [], "sources": self.book.snapshot()})
        )

    async def alerts(self) -> list[tuple[str, str]]:
        listed = (await self.notify.call_tool("list_notifications", {"limit": 50})).structured or {}
        return [(n["title"], n["body"]) for n in listed["notifications"]]


@asynccontextmanager
async def watched(spec: ServerSpec, connections: dict[str, ServerConnection]) -> AsyncIterator[Watched]:
    gmail = ServerConnection(spec, call_timeout=20)
    async with anyio.create_task_group() as tasks:
        await tasks.start(gmail.run)
        yield Watched(gmail, connections)
        tasks.cancel_scope.cancel()


async def wait(emulator: GmailEmulator, predicate: Callable[[Mailbox], bool]) -> None:
    assert await anyio.to_thread.run_sync(emulator.wait_until, predicate, 20)


def failed(checks: list[Check]) -> Check:
    [failure] = [check for check in checks if check.level is Level.FAIL]
    return failure


async def test_a_revoked_token_turns_mail_red_at_once_alerts_once_and_recovers(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    with GmailEmulator() as emulator:
        emulator.deliver(plain_message(subject="before"))
        spec = gmail_spec(emulator, tmp_path / "state")
        async with watched(spec, connections) as mail:
            await mail.sync()
            healthy = mail.status()

            emulator.revoke()
            with pytest.raises(ToolCallFailed):
                await mail.sync()
            down = mail.source.state(mail.clock.now)
            status = mail.status()
            doctor = failed(await probe_server(spec))
            await mail.checks(3)

            emulator.reauthorize()
            emulator.deliver(plain_message(subject="after consenting again"))
            await mail.sync()
            await mail.checks(2, step=0)
            alerts = await mail.alerts()

    assert "source mail: ok" in healthy
    assert re.search(
        r"OAuth: refresh token \d+ s old, access token expires in 60 min, refreshed \d+ s ago", healthy
    )
    assert down[0] is SourceState.FAILING and down[1].startswith("the account refused the credentials")
    assert "source mail: failing (the account refused the credentials: Google refused to refresh" in status
    assert "→ run `pepper-orchestrator setup gmail` again" in status
    assert "refreshing fails: " in status and "invalid_grant" in status
    assert doctor.name in ("account gmail", "server gmail") and "expired or was revoked" in doctor.detail
    assert [title for title, _ in alerts] == ["Pepper receives mail again", "Pepper stopped receiving mail"]
    assert "setup gmail" in alerts[1][1]


async def test_a_watch_whose_renewal_fails_until_it_lapses_turns_mail_red_and_recovers(
    connections: dict[str, ServerConnection], tmp_path: Path
) -> None:
    with GmailEmulator() as emulator:
        emulator.mailbox.watch_seconds = 1.0  # renewed every half second while renewing works
        spec = gmail_spec(emulator, tmp_path / "state", PEPPER_GMAIL_GMAIL_PUBSUB_TOPIC=TOPIC, PEPPER_GMAIL_GMAIL_PUSH_TOKEN="push-secret",
                          PEPPER_GMAIL_POLL_SECONDS="0.2")  # fmt: skip
        async with watched(spec, connections) as mail:
            await mail.sync()
            short = mail.source.state(mail.clock.now)

            emulator.mailbox.watch_error = (403, "User not authorized to perform this action.")
            watches = len(emulator.mailbox.watches)
            await wait(emulator, lambda box: "POST watch" in box.calls[-1:] and len(box.watches) == watches)
            await mail.sync()
            expires = mail.source.account["watch"]["expires_at"]
            await wait(emulator, lambda _: time.time() > expires)  # the next request after the lapse
            await mail.sync()  # polling still brings the mail: only push lapsed
            lapsed = mail.source.state(mail.clock.now)
            status = mail.status()
            doctor = failed(await probe_server(spec))
            await mail.checks(3)

            emulator.mailbox.watch_seconds = 7 * 86400.0
            emulator.mailbox.watch_error = None
            await wait(emulator, lambda box: len(box.watches) > watches)
            await mail.sync()
            back = mail.source.state(mail.clock.now)
            await mail.checks(2, step=0)
            alerts = await mail.alerts()

    assert short[0] is SourceState.LATE and short[1].startswith("the Gmail push watch lapses in")
    assert lapsed[0] is SourceState.FAILING, lapsed
    assert "the Gmail push watch lapsed" in lapsed[1] and "renewing it fails" in lapsed[1]
    assert "source mail: failing (the Gmail push watch lapsed" in status and "not authorized" in status
    assert f"→ check that the Pub/Sub topic {TOPIC} exists" in status
    assert doctor.name == "account gmail" and "could not be registered" in doctor.detail
    assert back[0] is SourceState.OK, back
    assert [title for title, _ in alerts] == ["Pepper receives mail again", "Pepper stopped receiving mail"]
