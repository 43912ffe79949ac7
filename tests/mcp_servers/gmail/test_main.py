"""`python -m mcp_servers.gmail` as a real child process, over stdio and over streamable HTTP."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastmcp import Client

from tests.support.processes import http_server, stdio_transport

from .maildirs import deliver
from .messages import message_with_attachment, plain_message

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
MODULE = "mcp_servers.gmail"


def mailbox(tmp_path: Path) -> list[str]:
    deliver(tmp_path / "Mail", plain_message(subject="Smoke signal"))
    return ["--maildir", str(tmp_path / "Mail"), "--state-dir", str(tmp_path / "state")]


async def test_main_serves_over_stdio_with_allow_write_but_not_send(tmp_path: Path) -> None:
    async with Client(stdio_transport(MODULE, [*mailbox(tmp_path), "--allow-write"])) as client:
        found = await client.call_tool("search_messages", {"query": "subject:smoke"})
        message = found.structured_content["messages"][0]["id"]
        read = await client.call_tool("mark_read", {"id": message})
        refused = await client.call_tool("trash", {"id": message}, raise_on_error=False)
    assert [m["subject"] for m in found.structured_content["messages"]] == ["Smoke signal"]
    assert read.structured_content["result"] == ["INBOX"]
    assert refused.is_error and "trash needs --allow-send" in refused.content[0].text


async def test_main_saves_an_attachment_into_files_dir_and_serves_it_as_a_resource_over_stdio(
    tmp_path: Path,
) -> None:
    data = bytes(range(256)) * 64
    key = deliver(tmp_path / "Mail", message_with_attachment("scan.png", data, "image/png"))
    arguments = [*mailbox(tmp_path), "--allow-write", "--files-dir", str(tmp_path / "files")]
    async with Client(stdio_transport(MODULE, arguments)) as client:
        saved = await client.call_tool("save_attachment", {"id": key, "attachment_id": "1"})
        [content] = await client.read_resource(f"gmail://message/{key}/attachment/1")
    assert (tmp_path / "files" / "scan.png").read_bytes() == data
    assert saved.structured_content["size"] == len(data) and content.mime_type == "image/png"
    assert base64.b64decode(content.blob) == data


async def test_main_serves_over_http_with_allow_send(tmp_path: Path) -> None:
    with http_server(MODULE, [*mailbox(tmp_path), "--allow-send"]) as url:
        async with Client(url) as client:
            sent = await client.call_tool(
                "send_message", {"message": {"to": ["bob@example.org"], "subject": "Hi"}}
            )
            changes = await client.call_tool("list_changes", {})
    assert sent.structured_content["delivered"] is False
    assert [c["kind"] for c in changes.structured_content["changes"]] == ["added", "added"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the maildir provider needs a folder: pass --maildir PATH"),
        (["--provider", "imap"], "the imap provider needs PEPPER_GMAIL_IMAP_HOST"),
        (["--provider", "gmail"], "no Gmail token at .*consent"),
    ],
)
def test_main_explains_missing_configuration(tmp_path: Path, args: list[str], message: str) -> None:
    import re
    import subprocess
    import sys

    from tests.support.processes import child_env

    env = {key: value for key, value in child_env().items() if not key.startswith("PEPPER_GMAIL_")}
    command = [sys.executable, "-m", MODULE, "--state-dir", str(tmp_path), *args]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert re.search(message, done.stderr) and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""
