"""Chat commands approve, reject and list pending actions, parsed by code from the user's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.chat_commands import answer_command
from orchestrator.context_items import ContextItems
from orchestrator.workers.action_store import ContextActionStore
from orchestrator.workers.approvals import ApprovalDesk
from orchestrator.workers.toolbox import Toolbox

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "peer")]


async def desk_with_action(connections, target: Path):
    toolbox = Toolbox({"peer": connections["peer"]})
    await toolbox.load()
    desk = ApprovalDesk(ContextActionStore(ContextItems(connections["context"])), toolbox.call, toolbox.tools)
    action = await desk.request(toolbox.tools[("peer", "erase")], {"path": str(target)}, "worker:test")
    return desk, action


async def test_chat_commands_list_and_approve_pending_actions(connections, tmp_path: Path) -> None:
    target = tmp_path / "old.txt"
    target.write_text("x")
    desk, action = await desk_with_action(connections, target)
    listing = await answer_command(desk, "pending")
    assert f"`{action.id}` peer.erase" in listing and "asked by worker:test" in listing
    assert await answer_command(desk, f"Approve {action.id}.") == f"{action.describe()}: done"
    assert not target.exists()
    assert await answer_command(desk, "pending") == "Nothing is waiting for your approval."


async def test_chat_commands_reject_and_report_unknown_ids(connections, tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("x")
    desk, action = await desk_with_action(connections, target)
    assert (await answer_command(desk, f"reject {action.id}")).endswith("rejected; nothing was done")
    assert target.exists()
    assert await answer_command(desk, "approve nosuch") == "Could not approve it: there is no action 'nosuch'"
    assert await answer_command(desk, "approve") == "Say which action: `approve ID` (`pending` lists them)."


async def test_answer_command_ignores_ordinary_messages(connections, tmp_path: Path) -> None:
    desk, _ = await desk_with_action(connections, tmp_path / "f")
    assert await answer_command(desk, "please approve the budget when you can") is None
