"""The capability model: every tool of every Pepper server is classified, argument patterns refine a
tool's class, and whatever Pepper does not know waits for approval."""

from __future__ import annotations

import pytest

from orchestrator.scheduler_tools import ARGUMENTS
from orchestrator.trust.capabilities import TABLE, classify, is_classified


@pytest.mark.anyio
@pytest.mark.servers("context", "gmail", "calendar", "notify")
async def test_every_tool_of_every_real_server_has_a_table_entry(connections) -> None:
    unclassified = []
    for name, connection in connections.items():
        for tool in await connection.list_tools():
            if not is_classified(name, tool.name):
                unclassified.append(f"{name}.{tool.name}")
    assert unclassified == [], "classify these in orchestrator/trust/capabilities.py"
    for name, connection in connections.items():
        offered = {tool.name for tool in await connection.list_tools()}
        assert set(TABLE[name]) == offered, f"the table lists {name} tools the server no longer has"


def test_every_scheduler_tool_has_a_table_entry() -> None:
    assert set(TABLE["pepper"]) == set(ARGUMENTS)


@pytest.mark.parametrize(
    ("add", "remove", "kind"),
    [
        (["TRASH"], [], "outward"),
        (["spam"], [], "outward"),
        ([], ["INBOX"], "outward"),
        (["STARRED", "Trash"], [], "outward"),
        (["[Gmail]/Trash"], [], "outward"),
        (["Junk"], [], "outward"),
        (["Deleted Items"], [], "outward"),
        (["INBOX.Archive"], [], "outward"),
        ([], ["inbox"], "outward"),
        (["Trash talk"], [], "local_write"),
        (["STARRED"], ["UNREAD"], "local_write"),
        ([], ["UNREAD"], "local_write"),
        (["Projects/Atlas"], [], "local_write"),
    ],
)
def test_classify_modify_labels_by_the_labels_it_changes(add, remove, kind) -> None:
    assert classify("gmail", "modify_labels", {"id": "1", "add": add, "remove": remove}).kind == kind


def test_classify_names_what_a_hiding_label_change_does() -> None:
    verdict = classify("gmail", "modify_labels", {"id": "1", "add": ["TRASH"]})
    assert verdict.reason.startswith("adds TRASH")


@pytest.mark.parametrize(
    ("server", "tool", "arguments", "kind"),
    [
        ("gmail", "get_message", {"id": "1"}, "read"),
        ("gmail", "mark_read", {"id": "1"}, "local_write"),
        ("gmail", "archive", {"id": "1"}, "outward"),
        ("gmail", "trash", {"id": "1"}, "outward"),
        ("gmail", "create_draft", {"message": {"to": ["x@evil.example"]}}, "local_write"),
        ("gmail", "send_draft", {"draft_id": "d"}, "outward"),
        ("gmail", "send_message", {"message": {"to": ["me@example.org"]}}, "outward"),
        ("gmail", "reply", {"id": "1", "body": "ok"}, "outward"),
        ("gmail", "forward", {"id": "1", "to": ["a@b.example"]}, "outward"),
        ("calendar", "create_event", {"draft": {"title": "Focus"}}, "local_write"),
        ("calendar", "create_event", {"draft": {"title": "Sync", "attendees": ["a@b.example"]}}, "outward"),
        ("calendar", "update_event", {"event_id": "e", "changes": {"title": "x"}}, "outward"),
        ("calendar", "delete_event", {"event_id": "e"}, "outward"),
        ("calendar", "respond_to_invite", {"event_id": "e", "response": "declined"}, "outward"),
        ("calendar", "find_free_slots", {"attendees": ["a@b.example"]}, "read"),
        ("calendar", "quick_add_event", {"text": "Focus time tomorrow at 9am"}, "local_write"),
        ("calendar", "move_event", {"event_id": "e", "calendar": "team"}, "outward"),
        ("notify", "send_notification", {"title": "Hi"}, "local_write"),
        ("context", "store", {"namespace": "memory.worker.x"}, "local_write"),
        ("pepper", "search_context", {}, "read"),
    ],
)
def test_classify_pepper_tools(server, tool, arguments, kind) -> None:
    assert classify(server, tool, arguments).kind == kind


def test_classify_treats_unknown_tools_as_outward_until_the_user_classifies_them() -> None:
    verdict = classify("peer", "echo", {"text": "hi"})
    assert (verdict.kind, verdict.reason) == (
        "outward",
        "peer.echo is not classified: it runs only after approval",
    )
    assert classify("gmail", "purge_everything", {}).kind == "outward"
    assert classify("peer", "echo", {}, extra={"peer": {"echo": "read"}}).kind == "read"


def test_user_classification_never_downgrades_a_pepper_tool() -> None:
    assert classify("gmail", "send_message", {}, extra={"gmail": {"send_message": "read"}}).kind == "outward"
