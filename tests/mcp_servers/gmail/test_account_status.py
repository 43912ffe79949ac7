"""The gmail server's own account health (`get_account_status`, `gmail://account`): OAuth tokens,
refused credentials and the push watch, on the Gmail API emulator; a refused IMAP login on Dovecot."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.gmail.account_status import ACCOUNT_URI
from mcp_servers.gmail.gmail_api import GmailApiProvider
from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.provider import CredentialsRefused
from mcp_servers.gmail.server import build_server, watch_inbox
from mcp_servers.gmail.settings import GmailSettings

from .gmail_emulator import GmailEmulator
from .messages import plain_message

pytestmark = pytest.mark.anyio
TOPIC = "projects/pepper-test/topics/gmail"


async def _status(client: Client) -> dict:
    return (await client.call_tool("get_account_status", {})).structured_content or {}


async def test_account_status_reports_the_oauth_tokens_after_the_first_refresh(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    settings = emulator.settings(tmp_path / "state", gmail_refresh_token_days=7)
    provider = GmailApiProvider(settings)
    async with Client(build_server(settings, provider)) as client:
        status = await _status(client)
        resource = json.loads((await client.read_resource(ACCOUNT_URI))[0].text)
    oauth = status["oauth"]
    assert status["provider"] == "gmail" and status["state"] == "ok" and not status["auth_failing"]
    assert oauth["last_refresh_at"] is not None and oauth["refresh_error"] is None
    assert 3500 < oauth["access_token_expires_at"] - status["checked_at"] <= 3600
    assert oauth["refresh_token_expires_at"] == oauth["refresh_token_since"] + 7 * 86400
    assert resource["oauth"]["refresh_token_since"] == oauth["refresh_token_since"]


async def test_a_revoked_token_fails_calls_and_the_status_says_the_credentials_were_refused(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    settings = emulator.settings(tmp_path / "state")
    provider = GmailApiProvider(settings)
    async with Client(build_server(settings, provider)) as client:
        emulator.revoke()
        with pytest.raises(ToolError, match="refused to refresh the Gmail token .*setup gmail"):
            await client.call_tool("list_changes", {})
        refused = await _status(client)
        emulator.reauthorize()
        emulator.deliver(plain_message(subject="after consent"))
        await client.call_tool("list_changes", {})
        recovered = await _status(client)
    assert refused["state"] == "failing" and refused["auth_failing"] is True
    assert "invalid_grant" in refused["oauth"]["refresh_error"]
    assert recovered["state"] == "ok" and not recovered["auth_failing"]
    assert recovered["oauth"]["refresh_error"] is None
    assert recovered["oauth"]["last_refresh_at"] > refused["oauth"]["last_refresh_at"]
    assert emulator.mailbox.token in (settings.state_dir / "gmail-token.json").read_text()


async def test_a_revoked_token_refuses_a_start(emulator: GmailEmulator, tmp_path: Path) -> None:
    emulator.revoke()
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    with pytest.raises(CredentialsRefused, match="expired or was revoked"):
        await provider.open()
    assert provider.account_health.status().auth_failing


async def test_the_watch_expiry_and_renewal_and_a_failing_renewal_are_reported(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    settings = emulator.settings(tmp_path / "state", poll_seconds=0.05, gmail_pubsub_topic=TOPIC)
    provider = GmailApiProvider(settings)
    emulator.mailbox.watch_seconds = 0.2  # renewed at half of it: every 0.1 s
    subscriptions = ResourceSubscriptions()
    async with Client(build_server(settings, provider, subscriptions)) as client:
        async with anyio.create_task_group() as watching:
            await watching.start(watch_inbox, provider, subscriptions)
            registered = await _status(client)
            emulator.mailbox.watch_error = (403, "User not authorized to perform this action.")
            calls = len(emulator.mailbox.calls)
            assert await anyio.to_thread.run_sync(
                emulator.wait_until, lambda box: box.calls[calls:].count("POST watch") >= 2
            )
            failing = await _status(client)
            watching.cancel_scope.cancel()
    watch = registered["watch"]
    assert watch["topic"] == TOPIC and watch["renewal_error"] is None
    assert 0 < watch["expires_at"] - watch["last_renewal_at"] <= 0.2
    assert "not authorized" in failing["watch"]["renewal_error"]
    assert failing["watch"]["renewal_failing_since"] is not None


async def test_a_rejected_imap_login_is_refused_credentials(account: GmailSettings) -> None:
    wrong = account.model_copy(update={"imap_password": account.imap_password.__class__("wrong")})
    provider = ImapProvider(wrong)
    with pytest.raises(CredentialsRefused, match="rejected the login"):
        await provider.open()
    status = provider.account_health.status()
    assert status.provider == "imap" and status.auth_failing and status.state == "failing"
