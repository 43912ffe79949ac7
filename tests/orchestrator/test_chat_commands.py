"""Chat commands approve, reject and list pending actions, parsed by code from the user's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.chat_commands import answer_command
from orchestrator.context_items import ContextItems
from orchestrator.trust.actions import ContextActionStore, Signer
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.provenance import Provenance
from orchestrator.workers.toolbox import Toolbox

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "peer")]


async def desk_with_action(connections, target: Path):
    toolbox = Toolbox({"peer": connections["peer"]})
    await toolbox.load()
    store = ContextActionStore(ContextItems(connections["context"]), Signer.from_data_dir(target.parent))
    desk = ApprovalDesk(store, toolbox.call, toolbox.tools)
    asked = Provenance(requested_by="worker:test", task="tidy up")
    action = await desk.request("peer", "erase", {"path": str(target)}, asked, reason="not classified")
    return desk, action


async def test_chat_commands_list_and_approve_pending_actions(connections, tmp_path: Path) -> None:
    target = tmp_path / "old.txt"
    target.write_text("x")
    desk, action = await desk_with_action(connections, target)
    listing = await answer_command(desk, "pending")
    assert f"`{action.id}` peer.erase: not classified" in listing and "Asked by worker:test" in listing
    assert f"Digest: {action.digest[:12]}" in listing and "Task: “tidy up”" in listing
    assert (await answer_command(desk, f"Approve {action.id}.")).endswith("→ done")
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


def test_profile_commands_parse_the_documented_phrases() -> None:
    from orchestrator.chat_commands import is_command, profile_change

    def parsed(text: str) -> tuple | None:
        change = profile_change(text)
        return (change.action, change.value, change.to) if change else None

    assert parsed("My name is Ada Lovelace.") == ("set_name", "Ada Lovelace", None)
    assert parsed("my role is Head of Product") == ("set_role", "Head of Product", None)
    assert parsed("add VIP ann@example.org") == ("add_vip", "ann@example.org", None)
    assert parsed("Remove vip ann@example.org!") == ("remove_vip", "ann@example.org", None)
    assert parsed("add project Atlas") == ("add_project", "Atlas", None)
    assert parsed("rename project Atlas to Atlas 2") == ("rename_project", "Atlas", "Atlas 2")
    assert parsed("remove the project Atlas 2") == ("remove_project", "Atlas 2", None)
    assert parsed("remember that Alice is my manager") == ("remember", "Alice is my manager", None)
    assert parsed("forget Alice") == ("forget", "Alice", None)
    assert parsed("what is urgent?") is None and parsed("Please add the project plan to the doc") is None
    assert is_command("profile") and is_command("show my profile?") and is_command("approve abc")
    assert not is_command("tell me about my profile picture")


@pytest.mark.servers("context")
async def test_profile_commands_edit_and_show_the_stored_profile(connections) -> None:
    from orchestrator.profile import ProfileBook

    items = ContextItems(connections["context"])
    profiles = ProfileBook(items, ["me@example.org"], ["boss@example.org"])
    desk = ApprovalDesk(ContextActionStore(items, Signer(b"k" * 32)), None, {})
    assert await answer_command(desk, "my name is Ada", profiles) == "Your name is now Ada."
    assert await answer_command(desk, "add project Engine", profiles) == (
        "Added the project Engine: mail that names it gets more attention."
    )
    assert await answer_command(desk, "remember that Charles is my mentor", profiles) == (
        "I'll remember that Charles is my mentor."
    )
    assert await answer_command(desk, "remove vip nobody@example.org", profiles) == (
        "I could not change your profile: nobody@example.org is not a VIP; the VIPs are boss@example.org."
    )
    shown = await answer_command(desk, "profile", profiles)
    assert shown is not None and "**Name:** Ada" in shown and "- Engine (yours)" in shown
    assert "**VIPs:** boss@example.org" in shown and "- Charles is my mentor" in shown
    stored = await items.get("memory.profile", "user")
    assert stored is not None and stored.data["edits"]["name"] == "Ada"
    assert "Charles is my mentor" in (stored.text or "")
