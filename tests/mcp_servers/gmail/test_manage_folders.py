"""Label management where a label is a folder (Maildir `.Name`, an IMAP mailbox) holding mail another
client filed there: a rename keeps every message and its id; a delete moves them to the archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.indexed import IndexedProvider
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.query import parse_query
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import Dovecot, imap_account, other_client
from .maildirs import deliver
from .messages import plain_message

pytestmark = pytest.mark.anyio


async def ids(provider: IndexedProvider, query: str) -> set[str]:
    return {hit.id for hit in await provider.search(parse_query(query), 50)}


async def rename_then_delete(provider: IndexedProvider) -> None:
    filed = await ids(provider, "label:Projects")
    assert len(filed) == 2
    since = (await provider.list_changes(None, 100)).cursor
    label = await provider.rename_label("projects", "Clients")
    assert (label.name, label.total) == ("Clients", 2)
    assert await ids(provider, "label:Clients") == filed and await ids(provider, "label:Projects") == set()
    changes = (await provider.list_changes(since, 100)).changes
    assert {(c.kind, c.message_id) for c in changes} == {("labels_changed", id) for id in filed}
    assert await provider.delete_label("Clients") == 2
    assert await ids(provider, "in:anywhere") >= filed, "the messages stay"
    assert "Clients" not in {label.name for label in await provider.list_labels()}


async def test_a_maildir_folder_label_is_renamed_with_its_mail_and_deleted_to_the_archive(
    tmp_path: Path,
) -> None:
    for subject in ("a", "b"):
        deliver(tmp_path / "Mail", plain_message(subject=subject), folder="Projects", flags="S")
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await provider.open()
    try:
        await rename_then_delete(provider)
    finally:
        await provider.aclose()
    assert not (tmp_path / "Mail" / ".Clients").exists() and not (tmp_path / "Mail" / ".Projects").exists()
    assert len(list((tmp_path / "Mail" / ".Archive" / "cur").iterdir())) == 2


async def test_an_imap_folder_label_is_renamed_with_its_mail_and_deleted_to_the_archive(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    settings: GmailSettings = imap_account(dovecot, tmp_path / "state")
    phone = other_client(settings)
    try:
        phone.create_folder("Projects")
        for subject in ("a", "b"):
            phone.append("Projects", plain_message(subject=subject), "(\\Seen)")
        provider = ImapProvider(settings)
        await provider.open()
        try:
            await rename_then_delete(provider)
        finally:
            await provider.aclose()
        assert "Clients" not in {folder.name for folder in phone.folders()}
        assert phone.select("Archive").exists == 2
    finally:
        phone.close()
