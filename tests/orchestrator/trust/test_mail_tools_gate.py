"""The gmail server's management tools through the trust boundary: a worker calling an outward one
(deleting a draft or a label, reporting spam, a batch that trashes, sending with files) gets a
pending action and nothing runs; a local write (saving an attachment, changing a draft, untrash,
not spam, creating or renaming a label) runs at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import UserProfile
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.actions import ContextActionStore, Signer
from orchestrator.trust.cards import card_text
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.gate import GatedToolRunner

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]

OUTWARD = [
    ("delete_draft", {"draft_id": "d1"}, "deletes a draft for good"),
    ("report_spam", {"id": "m1"}, "reports mail as spam"),
    ("delete_label", {"name": "Projects"}, "deletes a label"),
    ("batch_modify_labels", {"ids": ["m1", "m2"], "add": ["TRASH"]}, "adds TRASH"),
    ("batch_modify_labels", {"ids": ["m1"], "remove": ["INBOX"]}, "removes INBOX"),
    ("send_message", {"message": {"to": ["bob@example.org"], "html": "<p>Hi</p>", "attachments": ["q3.pdf"]}},
     "attaching 1 file(s) from the user's disk: q3.pdf"),
    ("reply", {"id": "m1", "body": "Here", "attachments": ["a.pdf", "b.pdf"]}, "attaching 2 file(s)"),
]  # fmt: skip
LOCAL = [
    ("save_attachment", {"id": "m1", "attachment_id": "1"}),
    ("update_draft", {"draft_id": "d1", "message": {"to": ["bob@example.org"], "attachments": ["q3.pdf"]}}),
    ("untrash", {"id": "m1"}),
    ("not_spam", {"id": "m1"}),
    ("create_label", {"name": "Projects"}),
    ("rename_label", {"name": "Projects", "new_name": "Clients"}),
    ("batch_modify_labels", {"ids": ["m1", "m2"], "add": ["STARRED"]}),
    ("list_attachments", {"id": "m1"}),
    ("list_drafts", {}),
]


async def never(tool: RemoteTool, arguments: dict) -> str:
    raise AssertionError(f"{tool.name} ran without approval")


def gated(connections, tmp_path: Path, call=never) -> tuple[GatedToolRunner, ApprovalDesk]:
    items = ContextItems(connections["context"])
    desk = ApprovalDesk(
        ContextActionStore(items, Signer.from_data_dir(tmp_path)), never, {}, profile=UserProfile
    )
    return GatedToolRunner(call, desk, "mail", task="Tidy the mailbox", items=items, origin={}), desk


async def test_a_worker_calling_each_outward_mail_tool_gets_a_pending_action(
    connections, tmp_path: Path
) -> None:
    runner, desk = gated(connections, tmp_path)
    for tool, arguments, _ in OUTWARD:
        answer = await runner(RemoteTool(server="gmail", name=tool), arguments)
        assert "Queued for the user's approval" in answer, tool
    queued = [(a.tool, a.arguments, a.reason, card_text(a)) for a in await desk.pending()]
    assert len(queued) == len(OUTWARD)
    for tool, arguments, reason in OUTWARD:
        assert any(
            (t, given) == (tool, arguments) and reason in why and reason in card
            for t, given, why, card in queued
        ), f"{tool} {arguments} was not queued with '{reason}'"
    cards = {a.tool: card_text(a) for a in await desk.pending()}
    assert "Attaches files: q3.pdf" in cards["send_message"] and "<p>Hi</p>" in cards["send_message"]
    assert "Adds labels: SPAM" in cards["report_spam"] and "Removes labels: INBOX" in cards["report_spam"]


async def test_a_local_mail_write_or_read_runs_without_approval(connections, tmp_path: Path) -> None:
    ran: list[str] = []

    async def call(remote: RemoteTool, given: dict) -> str:
        ran.append(remote.name)
        return "{}"

    runner, desk = gated(connections, tmp_path, call)
    for tool, arguments in LOCAL:
        await runner(RemoteTool(server="gmail", name=tool), arguments)
    assert ran == [tool for tool, _ in LOCAL] and await desk.pending() == []
