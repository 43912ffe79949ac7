"""The management tools with the Composio provider: what its Gmail tools carry works (HTML sending,
spam and trash moves, labels made, drafts listed and deleted), what they cannot carry is one clear
tool error (attachment bytes, files, renaming or deleting labels)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.gmail.providers import make_provider
from mcp_servers.gmail.server import build_server
from tests.support.composio_gmail import FakeGmail
from tests.support.composio_server import ComposioServer

from . import test_composio_provider as composio_tests
from .messages import message_with_attachment
from .test_composio_provider import arrive, settings_for

pytestmark = pytest.mark.anyio


gmail, composio = composio_tests.gmail, composio_tests.composio  # the provider tests' fixtures


@pytest.fixture
async def client(composio: ComposioServer, tmp_path: Path) -> AsyncIterator[Client]:
    (tmp_path / "files").mkdir()
    settings = settings_for(composio, tmp_path).model_copy(update={"files_dir": tmp_path / "files"})
    async with Client(build_server(settings, make_provider(settings))) as connected:
        yield connected


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> Any:
    result = (await client.call_tool(tool, arguments or {})).structured_content
    return result["result"] if result is not None and set(result) == {"result"} else result


async def test_html_mail_goes_to_composio_as_an_html_body(
    client: Client, composio: ComposioServer, gmail: FakeGmail
) -> None:
    html = "<p>See you <b>soon</b></p>"
    sent = await call(client, "send_message", {"message": {"to": ["bob@example.org"], "html": html}})
    with composio.lock:
        assert (gmail.sent[0]["is_html"], gmail.sent[0]["body"].strip()) == (True, html)
    assert (await call(client, "get_message", {"id": sent["id"]}))["text"].strip() == "See you soon"


async def test_attachment_bytes_and_label_renames_are_refused_with_the_reason(
    client: Client, composio: ComposioServer, gmail: FakeGmail, tmp_path: Path
) -> None:
    id = arrive(composio, gmail, message_with_attachment("q3.pdf", b"%PDF-1.4 report"))
    await call(client, "search_messages")  # a search syncs first
    assert [a["name"] for a in await call(client, "list_attachments", {"id": id})] == ["q3.pdf"]
    with pytest.raises(ToolError, match=r"attachment 1 \(q3.pdf\) was not downloaded by this provider"):
        await call(client, "save_attachment", {"id": id, "attachment_id": "1"})
    (tmp_path / "files" / "a.txt").write_text("hello")
    with pytest.raises(ToolError, match="take a text body, not attachments"):
        await call(client, "send_message", {"message": {"to": ["bob@example.org"], "attachments": ["a.txt"]}})
    await call(client, "create_label", {"name": "Projects"})
    with pytest.raises(
        ToolError, match="renaming and deleting labels are not available with the composio provider"
    ):
        await call(client, "rename_label", {"name": "Projects", "new_name": "Clients"})


async def test_spam_trash_and_drafts_work_through_composio_tools(
    client: Client, composio: ComposioServer, gmail: FakeGmail
) -> None:
    id = arrive(composio, gmail, message_with_attachment("x.pdf", b"%PDF"))
    await call(client, "search_messages")
    assert "SPAM" in await call(client, "report_spam", {"id": id})
    assert "INBOX" in await call(client, "not_spam", {"id": id})
    await call(client, "trash", {"id": id})
    assert "TRASH" not in await call(client, "untrash", {"id": id})
    draft = await call(client, "create_draft", {"message": {"to": ["eve@example.org"], "subject": "Later"}})
    assert [m["id"] for m in (await call(client, "list_drafts"))["messages"]] == [draft["draft_id"]]
    await call(client, "delete_draft", {"draft_id": draft["draft_id"]})
    with composio.lock:
        assert gmail.drafts == {}
    assert (await call(client, "list_drafts"))["messages"] == []
