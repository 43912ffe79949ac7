"""Reading many messages through Gmail's batch endpoint, against the emulator: a full sync and
`get_messages` cost one HTTP request per 50 messages instead of one each, a message Gmail no longer
has is missing with the reason, one refused for a passing reason (429) is asked for again, and a
batch whose token was revoked says so (the refresh Google refuses is `CredentialsRefused`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.gmail.gmail_api import BATCH, GmailApiProvider
from mcp_servers.gmail.provider import CredentialsRefused

from .gmail_emulator import GmailEmulator
from .messages import plain_message

pytestmark = pytest.mark.anyio


def single_reads(emulator: GmailEmulator) -> int:
    """`messages.get` calls made outside a batch."""
    gets = sum(call.startswith("GET messages/") for call in emulator.mailbox.calls)
    return gets - sum(emulator.mailbox.batches)


async def test_full_sync_and_get_messages_read_fifty_messages_per_http_request(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = [emulator.deliver(plain_message(subject=f"n{n}")) for n in range(120)]
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.open()
    try:
        page = await provider.list_changes(None, 500)
        synced_batches = list(emulator.mailbox.batches)
        before = emulator.mailbox.requests
        batch = await provider.get_messages(ids[:100])
        read_requests = emulator.mailbox.requests - before
    finally:
        await provider.aclose()
    assert BATCH == 50 and synced_batches == [50, 50, 20]  # before: 120 requests
    assert [change.message_id for change in page.changes] == ids[::-1]  # newest first, as Gmail lists
    assert [message.subject for message in batch.messages] == [f"n{n}" for n in range(100)]
    assert read_requests == 2 and single_reads(emulator) == 0  # 0.02 requests per message (before: 1)


async def test_batch_read_reports_the_missing_and_retries_a_rate_limited_message_alone(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = [emulator.deliver(plain_message(subject=f"n{n}")) for n in range(3)]
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.open()
    try:
        with emulator.mailbox.lock:
            del emulator.mailbox.messages[ids[0]]  # gone from Gmail, still in the index
            emulator.mailbox.busy_once.add(ids[2])
        batch = await provider.get_messages(ids)
    finally:
        await provider.aclose()
    assert [message.subject for message in batch.messages] == ["n1", "n2"]
    assert list(batch.missing) == [ids[0]] and "Gmail has no such item" in batch.missing[ids[0]]
    assert single_reads(emulator) == 1  # the 429 one, asked for again alone


async def test_a_batch_read_after_the_grant_was_revoked_says_to_consent_again(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = [emulator.deliver(plain_message(subject=f"n{n}")) for n in range(3)]
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.open()
    try:
        emulator.revoke()  # each part answers 401; the client refreshes once, and Google refuses
        batch = await provider.get_messages(ids)
        with pytest.raises(CredentialsRefused, match="expired or was revoked"):
            await provider.scan()
        refused = provider.account_health.status().auth_failing
    finally:
        await provider.aclose()
    assert batch.messages == [] and list(batch.missing) == ids
    assert all("expired or was revoked" in reason for reason in batch.missing.values())
    assert "POST token refused" in emulator.mailbox.calls
    assert refused  # the account's health says the credentials were refused


async def test_a_resync_after_history_expired_reads_the_labels_fifty_messages_per_request(
    emulator: GmailEmulator, tmp_path: Path
) -> None:
    ids = [emulator.deliver(plain_message(subject=f"n{n}")) for n in range(120)]
    provider = GmailApiProvider(emulator.settings(tmp_path / "state"))
    await provider.open()
    try:
        cursor = (await provider.list_changes(None, 500)).cursor
        new = emulator.deliver(plain_message(subject="new"))
        with emulator.mailbox.lock:
            emulator.mailbox.messages[ids[0]]["labelIds"] = ["INBOX"]  # read elsewhere, history then lost
        emulator.expire_history()
        before, batches = emulator.mailbox.requests, len(emulator.mailbox.batches)
        page = await provider.list_changes(cursor, 50)
        requests = emulator.mailbox.requests - before
    finally:
        await provider.aclose()
    assert sorted((c.kind, c.message_id) for c in page.changes) == [
        ("added", new),
        ("labels_changed", ids[0]),
    ]
    assert (
        emulator.mailbox.batches[batches:] == [50, 50, 20, 1] and single_reads(emulator) == 0
    )  # before: 120
    assert requests == 1 + 1 + 1 + 4  # the refused history, profile, one listing page, 3 + 1 batches
