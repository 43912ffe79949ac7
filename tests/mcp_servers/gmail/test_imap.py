"""The IMAP + SMTP provider against a real Dovecot (and a real aiosmtpd sink)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
import pytest
from pydantic import SecretStr

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.provider import ProviderUnavailableError
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import DOVECOT, Dovecot, other_client
from .messages import plain_message

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(DOVECOT is None, reason="dovecot is not installed (apt-get install dovecot-imapd)"),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="Dovecot runs mail processes as nobody: the tests need root"
    ),
]


async def test_list_changes_reports_appended_mail_once_across_restarts(account: GmailSettings) -> None:
    other = other_client(account)
    other.append("INBOX", plain_message(subject="first"), "")
    first = ImapProvider(account)
    await first.open()
    page = await first.list_changes(None, 10)
    assert [(c.kind, c.labels) for c in page.changes] == [("added", ["INBOX", "UNREAD"])]
    await first.aclose()
    other.append("INBOX", plain_message(subject="second"), "(\\Seen)")
    second = ImapProvider(account)
    await second.open()
    later = await second.list_changes(page.cursor, 10)
    assert [(c.kind, c.labels) for c in later.changes] == [("added", ["INBOX"])]
    assert (await second.get_message(later.changes[0].message_id)).subject == "second"
    assert (await second.list_changes(later.cursor, 10)).changes == []
    await second.aclose()
    other.close()


async def test_flag_change_by_another_client_is_a_labels_change(
    provider: ImapProvider, account: GmailSettings
) -> None:
    other = other_client(account)
    other.append("INBOX", plain_message(), "")
    start = (await provider.list_changes(None, 10)).cursor
    other.select("INBOX", readonly=False)
    other.store(1, ["\\Seen", "\\Flagged"], [])
    other.close()
    page = await provider.list_changes(start, 10)
    assert [(c.kind, c.labels) for c in page.changes] == [("labels_changed", ["INBOX", "STARRED"])]


async def test_modify_labels_moves_and_keeps_the_id(provider: ImapProvider, account: GmailSettings) -> None:
    other = other_client(account)
    other.append("INBOX", plain_message(subject="keep me"), "")
    other.close()
    (change,) = (await provider.list_changes(None, 10)).changes
    id = change.message_id
    assert await provider.modify_labels(id, ["Receipts"], ["INBOX", "UNREAD"]) == ["Receipts"]
    assert [m.id for m in await provider.search(parse_query("label:Receipts"), 5)] == [id]
    assert await provider.modify_labels(id, ["TRASH"], []) == ["TRASH", "Receipts"]
    message = await provider.get_message(id)
    assert message.subject == "keep me" and message.labels == ["TRASH", "Receipts"]
    kinds = [c.kind for c in (await provider.list_changes(None, 10)).changes]
    assert kinds == ["added", "labels_changed", "labels_changed"]


async def test_uidvalidity_change_resyncs_the_folder_without_losing_mail(
    provider: ImapProvider, account: GmailSettings
) -> None:
    other = other_client(account)
    other.imap.create("Projects")
    other.append("Projects", plain_message(subject="old"), "")
    before = await provider.list_changes(None, 10)
    other.imap.delete("Projects")
    other.imap.create("Projects")  # same name, new UIDVALIDITY (and a HIGHESTMODSEQ already stored)
    other.append("Projects", plain_message(subject="new"), "")
    other.close()
    page = await provider.list_changes(before.cursor, 10)
    assert [c.kind for c in page.changes] == ["deleted", "added"]
    assert (await provider.get_message(page.changes[1].message_id)).subject == "new"


async def test_drafts_and_sent_copies_go_to_their_folders(provider: ImapProvider) -> None:
    from email.message import EmailMessage

    draft = EmailMessage()
    draft["From"], draft["To"], draft["Subject"] = "me@example.org", "bob@example.org", "Draft"
    draft["Message-ID"] = "<draft@example.org>"
    draft.set_content("later")
    ref = await provider.save_draft(draft)
    assert (await provider.get_draft(ref.draft_id))["Subject"] == "Draft"
    sent = await provider.send(await provider.get_draft(ref.draft_id), ref.draft_id)
    assert sent.delivered is False
    labels = {label.name: label.total for label in await provider.list_labels()}
    assert (labels["DRAFT"], labels["SENT"]) == (0, 1)


async def test_wrong_password_is_a_clear_error(account: GmailSettings) -> None:
    mailbox = ImapProvider(account.model_copy(update={"imap_password": SecretStr("wrong")}))
    said = r"rejected the login of 'user\d+': \[AUTHENTICATIONFAILED\] Authentication failed\.; check PEPPER_GMAIL"
    with pytest.raises(ProviderUnavailableError, match=said):  # the server's words as text, not b'...'
        await mailbox.open()


async def test_idle_push_reports_new_mail_within_a_second(
    provider: ImapProvider, account: GmailSettings
) -> None:
    arrived = anyio.Event()

    async def changed() -> None:
        arrived.set()

    other = other_client(account)
    async with anyio.create_task_group() as group:
        await group.start(provider.watch, changed)
        await _until_idling(provider)
        started = time.perf_counter()
        other.append("INBOX", plain_message(subject="pushed"), "")
        with anyio.fail_after(10):
            await arrived.wait()
        latency = time.perf_counter() - started
        group.cancel_scope.cancel()
    other.close()
    assert latency < 5  # typically ~0.3 s; bench/gmail.py measures it properly
    assert [c.kind for c in (await provider.list_changes(None, 10)).changes] == ["added"]


async def test_watch_recovers_after_the_server_restarts_and_skips_nothing(
    provider: ImapProvider, account: GmailSettings, dovecot: Dovecot
) -> None:
    changes: list[int] = []
    arrived = anyio.Event()

    async def changed() -> None:
        changes.append(1)
        arrived.set()

    async with anyio.create_task_group() as group:
        await group.start(provider.watch, changed)
        await _until_idling(provider)
        dovecot.stop()  # drops the IDLE connection and the command connection
        assert account.imap_username
        _deliver_while_down(dovecot.maildir(account.imap_username), plain_message(subject="while down"))
        dovecot.start()
        with anyio.fail_after(30):
            await arrived.wait()
        group.cancel_scope.cancel()
    page = await provider.list_changes(None, 10)
    assert [c.kind for c in page.changes] == ["added"]
    assert (await provider.get_message(page.changes[0].message_id)).subject == "while down"


def _deliver_while_down(maildir: Path, raw: bytes) -> None:
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "tmp" / "down.1").write_bytes(raw)
    os.rename(maildir / "tmp" / "down.1", maildir / "new" / "down.1")
    for path in (maildir, maildir / "new", maildir / "new" / "down.1"):
        os.chown(path, 65534, 65534)


async def _until_idling(provider: ImapProvider) -> None:
    """The watcher has nothing to await from outside; give it the moment it needs to enter IDLE."""
    with anyio.fail_after(10):
        while not provider.idling:  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def test_inbox_listeners_hear_about_mail_landing_in_dovecot(account: GmailSettings) -> None:
    from fastmcp import Client
    from mcp.client.subscriptions import listen

    from mcp_servers.common.subscriptions import ResourceSubscriptions
    from mcp_servers.gmail.server import INBOX_URI, build_server, watch_inbox

    subscriptions = ResourceSubscriptions()
    provider = ImapProvider(account)
    server = build_server(account, provider, subscriptions)
    other = other_client(account)
    await provider.open()
    try:
        async with anyio.create_task_group() as group:
            await group.start(watch_inbox, provider, subscriptions)
            async with Client(server) as client:
                async with listen(client.session, resource_subscriptions=[INBOX_URI]) as subscription:
                    await _until_idling(provider)
                    other.append("INBOX", plain_message(subject="over imap"), "")
                    with anyio.fail_after(10):
                        event = await subscription.__anext__()
                found = await client.call_tool("search_messages", {"query": "subject:imap"})
            group.cancel_scope.cancel()
    finally:
        other.close()
        await provider.aclose()
    assert event.uri == INBOX_URI
    assert [m["subject"] for m in found.structured_content["messages"]] == ["over imap"]


async def test_non_ascii_folder_is_a_label_that_search_and_moves_understand(
    provider: ImapProvider, account: GmailSettings
) -> None:
    from mcp_servers.gmail.imap_connection import quote
    from mcp_servers.gmail.utf7 import encode_mailbox

    other = other_client(account)
    other.imap.create(quote(encode_mailbox("Réunions/日本")))
    other.append("Réunions/日本", plain_message(subject="ordre du jour"), "")
    other.close()
    (change,) = (await provider.list_changes(None, 10)).changes
    assert change.labels == ["Réunions/日本", "UNREAD"]
    assert "Réunions/日本" in {label.name for label in await provider.list_labels()}
    (hit,) = await provider.search(parse_query('label:"Réunions/日本"'), 5)
    assert (await provider.get_message(hit.id)).subject == "ordre du jour"
    assert await provider.modify_labels(hit.id, ["INBOX"], ["Réunions/日本"]) == ["INBOX", "UNREAD"]
    assert await provider.search(parse_query('label:"Réunions/日本"'), 5) == []


async def test_idle_watches_a_non_ascii_folder(account: GmailSettings) -> None:
    from mcp_servers.gmail.imap_connection import quote
    from mcp_servers.gmail.utf7 import encode_mailbox

    other = other_client(account)
    other.imap.create(quote(encode_mailbox("Réunions/日本")))
    provider = ImapProvider(account.model_copy(update={"imap_folder": "Réunions/日本"}))
    await provider.open()
    arrived = anyio.Event()

    async def changed() -> None:
        arrived.set()

    try:
        async with anyio.create_task_group() as group:
            await group.start(provider.watch, changed)
            await _until_idling(provider)
            other.append("Réunions/日本", plain_message(subject="pushed"), "")
            with anyio.fail_after(10):
                await arrived.wait()
            group.cancel_scope.cancel()
    finally:
        other.close()
        await provider.aclose()


async def test_six_mib_attachment_is_parsed_whole_without_holding_it_in_memory(
    provider: ImapProvider, account: GmailSettings
) -> None:
    import tracemalloc

    from .messages import message_with_attachment

    size = 6 * 1024 * 1024
    raw = message_with_attachment("scan.pdf", os.urandom(size))
    other = other_client(account)
    other.append("INBOX", raw, "")
    other.close()
    del raw
    tracemalloc.start()
    try:
        (change,) = (await provider.list_changes(None, 10)).changes
        message = await provider.get_message(change.message_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert change.error is None and message.subject == "Report attached"
    assert [(a.name, a.size) for a in message.attachments] == [("scan.pdf", size)]
    assert message.text.startswith("The report is attached.")
    assert peak < 4 * 1024 * 1024  # the base64 message is 8.1 MiB: it was never held whole
    (hit,) = await provider.search(parse_query("has:attachment"), 5)
    assert hit.id == change.message_id
    whole = await provider.get_raw(change.message_id)  # forwarding needs every byte
    assert len(whole) > size
