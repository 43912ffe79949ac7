"""The management tools (attachments, HTML and attachment sending, drafts, untrash and spam, labels,
batch label changes) over in-memory MCP, each against a real Maildir, a real Dovecot and the real
google-api-python-client talking to the Gmail emulator: the same calls, the same answers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.gmail.compose import reply_to
from mcp_servers.gmail.gmail_api import GmailApiProvider
from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.parsing import parse_message
from mcp_servers.gmail.provider import MailProvider
from mcp_servers.gmail.server import build_server
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import imap_account, other_client
from .maildirs import deliver
from .messages import message_with_attachment, plain_message

pytestmark = pytest.mark.anyio
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@dataclass
class Mailbox:
    """One backend served over MCP: the client, a way to deliver mail, and the files folder."""

    client: Client
    deliver: Callable[[bytes], None]
    files: Path
    backend: str

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        result = (await self.client.call_tool(tool, arguments or {})).structured_content
        return result["result"] if result is not None and set(result) == {"result"} else result

    async def id_of(self, subject: str) -> str:
        found = await self.call("search_messages", {"query": f'subject:"{subject}" in:anywhere'})
        [message] = found["messages"]
        return message["id"]


@asynccontextmanager
async def serving(
    settings: GmailSettings, provider: MailProvider, deliver_raw, backend: str
) -> AsyncIterator[Mailbox]:
    settings = settings.model_copy(update={"allow_send": True, "from_address": "ada@example.org"})
    async with Client(build_server(settings, provider)) as client:
        assert settings.files_dir is not None
        yield Mailbox(client, deliver_raw, settings.files_dir, backend)


@pytest.fixture(params=["maildir", "imap", "gmail"])
async def mailbox(request, tmp_path: Path) -> AsyncIterator[Mailbox]:
    files = tmp_path / "files"
    files.mkdir()
    if request.param == "maildir":
        settings = GmailSettings(maildir=tmp_path / "Mail", state_dir=tmp_path / "state", files_dir=files)
        provider: MailProvider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
        async with serving(settings, provider, lambda raw: deliver(tmp_path / "Mail", raw), "maildir") as box:
            yield box
    elif request.param == "imap":
        dovecot = request.getfixturevalue("dovecot")
        settings = imap_account(dovecot, tmp_path / "state").model_copy(update={"files_dir": files})
        phone = other_client(settings)
        try:
            async with serving(
                settings, ImapProvider(settings), lambda raw: phone.append("INBOX", raw, ""), "imap"
            ) as box:
                yield box
        finally:
            phone.close()
    else:
        emulator = request.getfixturevalue("emulator")
        settings = emulator.settings(tmp_path / "state", allow_send=True, files_dir=files)
        async with serving(settings, GmailApiProvider(settings), emulator.deliver, "gmail") as box:
            yield box


async def test_attachments_are_listed_read_as_a_resource_and_saved_without_overwriting(
    mailbox: Mailbox,
) -> None:
    mailbox.deliver(message_with_attachment("q3 report.pdf", PDF))
    id = await mailbox.id_of("Report attached")
    [listed] = await mailbox.call("list_attachments", {"id": id})
    assert listed == {"id": "1", "name": "q3 report.pdf", "content_type": "application/pdf",
                      "size": len(PDF), "inline": False}  # fmt: skip
    [content] = await mailbox.client.read_resource(f"gmail://message/{id}/attachment/1")
    assert content.mime_type == "application/pdf"
    assert base64.b64decode(content.blob) == PDF
    first = await mailbox.call("save_attachment", {"id": id, "attachment_id": "1"})
    second = await mailbox.call("save_attachment", {"id": id, "attachment_id": "1"})
    assert Path(first["path"]) == mailbox.files / "q3 report.pdf"
    assert Path(second["path"]) == mailbox.files / "q3 report (1).pdf"
    assert await anyio.Path(second["path"]).read_bytes() == PDF
    with pytest.raises(ToolError, match="the message has no attachment '2': take ids from list_attachments"):
        await mailbox.call("save_attachment", {"id": id, "attachment_id": "2"})


async def test_html_mail_with_attachments_goes_out_as_alternative_text_and_files(mailbox: Mailbox) -> None:
    (mailbox.files / "plan.pdf").write_bytes(PDF)
    message = {"to": ["bob@example.org"], "subject": "Plan", "html": "<p>The <b>plan</b> &amp; budget</p>",
               "attachments": ["plan.pdf"]}  # fmt: skip
    sent = await mailbox.call("send_message", {"message": message})
    copy = await mailbox.call("get_message", {"id": sent["id"]})
    assert copy["text"].strip() == "The plan & budget"
    assert [(a["name"], a["size"]) for a in copy["attachments"]] == [("plan.pdf", len(PDF))]
    [content] = await mailbox.client.read_resource(f"gmail://message/{sent['id']}/attachment/1")
    assert base64.b64decode(content.blob) == PDF


async def test_an_html_reply_answers_the_message_and_its_text_is_made_from_the_html(mailbox: Mailbox) -> None:
    mailbox.deliver(plain_message(subject="Lunch?"))
    id = await mailbox.id_of("Lunch?")
    sent = await mailbox.call("reply", {"id": id, "html": "<p>Yes, <b>noon</b> &amp; the usual place</p>"})
    copy = await mailbox.call("get_message", {"id": sent["id"]})
    asked = await mailbox.call("get_message", {"id": id})
    assert (copy["subject"], copy["in_reply_to"]) == ("Re: Lunch?", asked["message_id"])
    assert copy["text"].strip() == "Yes, noon & the usual place"
    with pytest.raises(ToolError, match="the reply is empty: give its text as `body`, or `html`"):
        await mailbox.call("reply", {"id": id, "html": "  "})


def test_an_html_reply_is_alternative_text_and_html_each_quoting_the_original() -> None:
    original = parse_message(plain_message(subject="Lunch?", body="Hi Ada,\n<noon> ok?\n"), id="1")
    reply = reply_to(original, "", "ada@example.org", html="<p>Yes, <b>noon</b></p>")
    assert reply.get_content_type() == "multipart/alternative"
    text, html = (reply.get_body(preferencelist=(kind,)).get_content() for kind in ("plain", "html"))
    assert text.startswith(
        "Yes, noon\n\nOn Tue, 04 Mar 2025 09:30:00 +0000, Bob Example <bob@example.org> wrote:\n"
    )
    assert "> Hi Ada,\n> <noon> ok?" in text
    assert html.startswith(
        "<p>Yes, <b>noon</b></p>\n<p>On Tue, 04 Mar 2025 09:30:00 +0000, Bob Example &lt;bob@"
    )
    assert '<blockquote type="cite">\nHi Ada,<br>\n&lt;noon&gt; ok?\n</blockquote>' in html
    plain = reply_to(original, "Yes", "ada@example.org")
    assert plain.get_content_type() == "text/plain"


async def test_attachments_outside_the_files_folder_or_over_the_limits_are_refused(mailbox: Mailbox) -> None:
    (mailbox.files.parent / "secret.txt").write_text("key")
    mailbox.deliver(plain_message(subject="Question"))
    id = await mailbox.id_of("Question")
    with pytest.raises(
        ToolError, match=r"\.\./secret\.txt is outside the files folder .*: attach only files inside it"
    ):
        await mailbox.call("reply", {"id": id, "body": "Here", "attachments": ["../secret.txt"]})
    with pytest.raises(ToolError, match="at most 10 attachments per message, got 11"):
        await mailbox.call(
            "send_message", {"message": {"to": ["bob@example.org"], "attachments": ["a"] * 11}}
        )
    with pytest.raises(ToolError, match="missing.pdf is not a file in"):
        await mailbox.call(
            "create_draft", {"message": {"to": ["bob@example.org"], "attachments": ["missing.pdf"]}}
        )


async def test_drafts_are_listed_updated_and_deleted(mailbox: Mailbox) -> None:
    draft = await mailbox.call("create_draft", {"message": {"to": ["bob@example.org"], "subject": "First"}})
    listed = await mailbox.call("list_drafts")
    assert [m["id"] for m in listed["messages"]] == [draft["draft_id"]]
    updated = await mailbox.call("update_draft", {"draft_id": draft["draft_id"],
                                                  "message": {"to": ["bob@example.org"], "subject": "Second"}})  # fmt: skip
    listed = await mailbox.call("list_drafts")
    assert [(m["id"], m["subject"]) for m in listed["messages"]] == [(updated["draft_id"], "Second")]
    with pytest.raises(ToolError, match="no draft with id"):
        await mailbox.call("delete_draft", {"draft_id": draft["draft_id"]})
    await mailbox.call("delete_draft", {"draft_id": updated["draft_id"]})
    assert (await mailbox.call("list_drafts"))["messages"] == []


async def test_untrash_report_spam_and_not_spam_move_mail_between_inbox_trash_and_spam(
    mailbox: Mailbox,
) -> None:
    mailbox.deliver(plain_message(subject="Offer"))
    id = await mailbox.id_of("Offer")
    with pytest.raises(ToolError, match=f"message {id} is not in TRASH"):
        await mailbox.call("untrash", {"id": id})
    await mailbox.call("trash", {"id": id})
    id = await mailbox.id_of("Offer")  # an IMAP move keeps the id, as every backend does
    assert "INBOX" in await mailbox.call("untrash", {"id": id})
    assert "SPAM" in await mailbox.call("report_spam", {"id": id})
    assert "SPAM" in (await mailbox.call("get_message", {"id": id}))["labels"]
    labels = await mailbox.call("not_spam", {"id": id})
    assert "INBOX" in labels and "SPAM" not in labels


async def test_labels_are_created_renamed_on_their_mail_and_deleted_leaving_the_mail(
    mailbox: Mailbox,
) -> None:
    for subject in ("One", "Two"):
        mailbox.deliver(plain_message(subject=subject))
    one, two = await mailbox.id_of("One"), await mailbox.id_of("Two")
    await mailbox.call("create_label", {"name": "Projects"})
    assert "Projects" in {label["name"] for label in await mailbox.call("list_labels")}
    with pytest.raises(ToolError, match="label 'Projects' already exists"):
        await mailbox.call("create_label", {"name": "projects"})
    changed = await mailbox.call("batch_modify_labels", {"ids": [one, two, "nope"], "add": ["Projects"]})
    assert set(changed["labels"]) == {one, two} and list(changed["missing"]) == ["nope"]
    renamed = await mailbox.call("rename_label", {"name": "Projects", "new_name": "Clients"})
    assert (renamed["name"], renamed["total"]) == ("Clients", 2)
    labels = (await mailbox.call("get_message", {"id": one}))["labels"]
    assert "Clients" in labels and "Projects" not in labels and "INBOX" in labels
    found = await mailbox.call("search_messages", {"query": "label:clients"})
    assert {m["id"] for m in found["messages"]} == {one, two}
    await mailbox.call("delete_label", {"name": "Clients"})
    assert "Clients" not in (await mailbox.call("get_message", {"id": two}))["labels"]
    assert "Clients" not in {label["name"] for label in await mailbox.call("list_labels")}
    with pytest.raises(ToolError, match="INBOX is a system label"):
        await mailbox.call("delete_label", {"name": "INBOX"})
    with pytest.raises(ToolError, match="there is no label 'Clients'"):
        await mailbox.call("rename_label", {"name": "Clients", "new_name": "X"})


async def test_a_gmail_batch_is_one_batch_modify_request_and_journalled_once_per_message(
    emulator, tmp_path: Path
) -> None:
    ids = [emulator.deliver(plain_message(subject=f"n{i}")) for i in range(3)]
    settings = emulator.settings(tmp_path / "state", allow_write=True)
    provider = GmailApiProvider(settings)
    await provider.open()
    try:
        cursor = (await provider.list_changes(None, 100)).cursor
        changed = await provider.modify_labels_many(ids, ["STARRED"], ["UNREAD"])
        assert changed.labels == {id: ["INBOX", "STARRED"] for id in ids}
        assert emulator.mailbox.calls.count("POST messages/batchModify") == 1
        assert not any(call.endswith("/modify") for call in emulator.mailbox.calls)
        changes = (await provider.list_changes(cursor, 100)).changes
        assert sorted((c.kind, c.message_id) for c in changes) == [
            ("labels_changed", id) for id in sorted(ids)
        ]
    finally:
        await provider.aclose()
