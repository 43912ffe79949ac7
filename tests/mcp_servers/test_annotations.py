"""Every tool of every server carries the four hints true to what it does, as the table below says.

The table is the reviewed statement of each tool's behaviour: a tool added without a row fails the
test, and so does a row whose tool is gone. Hints: read-only, destructive (it may replace or remove
something, or cannot be undone), idempotent (a repeat with the same arguments changes nothing more),
open world (it may reach people or systems outside the user's own data).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastmcp import Client, FastMCP

from tests.mcp_servers import servers

pytestmark = pytest.mark.anyio

Hints = tuple[bool, bool, bool, bool]  # read_only, destructive, idempotent, open_world
READ: Hints = (True, False, True, False)

EXPECTED: dict[str, dict[str, Hints]] = {
    "gmail": {
        "search_messages": READ,
        "get_message": READ,
        "get_messages": READ,
        "get_thread": READ,
        "list_changes": READ,
        "get_account_status": READ,
        "list_labels": READ,
        "mark_read": (False, False, True, False),
        "archive": (False, False, True, False),
        "modify_labels": (False, True, True, False),  # removes labels; adding TRASH/SPAM hides mail
        "trash": (False, True, True, False),
        "create_draft": (False, False, False, False),  # one more draft per call
        "send_draft": (False, True, False, True),
        "send_message": (False, True, False, True),
        "reply": (False, True, False, True),
        "forward": (False, True, False, True),
        "list_attachments": READ,
        "list_drafts": READ,
        "save_attachment": (False, False, False, False),  # a new file each call, never over one
        "update_draft": (False, True, False, False),  # replaces the draft; a new draft id each call
        "delete_draft": (False, True, True, False),
        "untrash": (False, False, True, False),
        "not_spam": (False, False, True, False),
        "report_spam": (False, True, True, False),  # hides mail
        "create_label": (False, False, True, False),  # a second call is refused: the label exists
        "rename_label": (False, False, True, False),
        "delete_label": (False, True, True, False),
        "batch_modify_labels": (False, True, True, False),  # as modify_labels
    },
    "calendar": {
        "list_events": READ,
        "get_event": READ,
        "upcoming": READ,
        "search_events": READ,
        "find_free_slots": READ,
        "list_calendars": READ,
        "list_changes": (True, False, False, False),  # records fingerprints: the cursor moves on
        "create_event": (False, False, False, True),  # invitations reach the attendees
        "update_event": (False, True, False, True),
        "delete_event": (False, True, True, True),  # cancellations reach the attendees
        "respond_to_invite": (False, True, False, True),  # replaces the answer, mails the organizer
        "quick_add_event": (False, False, False, True),
        "move_event": (False, True, False, True),  # the event leaves its calendar
    },
    "context_store": {
        "get": READ,
        "get_many": READ,
        "query": READ,
        "search": READ,
        "read_events": READ,
        "store": (False, True, False, False),  # an upsert replaces; without an id, one more item
        "store_many": (False, True, False, False),
        "delete": (False, True, True, False),
        "ack": (False, False, True, False),  # the cursor only moves forward
    },
    "notify": {
        "list_notifications": READ,
        "list_reminders": READ,
        "send_notification": (False, False, False, True),  # webhook, e-mail, desktop
        "send_notifications": (False, False, False, True),
        "schedule_reminder": (False, False, False, True),
        "snooze": (False, False, False, True),  # back on every channel; '30m' is later each call
        "daily_digest": (False, True, False, True),  # replaces the schedule; send_now sends
        "mark_read": (False, False, True, False),
        "cancel_reminder": (False, True, True, False),
    },
}

BUILDERS: dict[str, Callable[[Path], FastMCP]] = {
    "gmail": lambda tmp_path: servers.gmail(tmp_path)[0],
    "calendar": servers.calendar,
    "context_store": servers.context_store,
    "notify": servers.notify,
}


async def _listed_hints(server: FastMCP) -> dict[str, Hints | None]:
    async with Client(server) as client:
        tools = await client.list_tools()
    return {
        tool.name: None
        if tool.annotations is None
        else (
            tool.annotations.read_only_hint,
            tool.annotations.destructive_hint,
            tool.annotations.idempotent_hint,
            tool.annotations.open_world_hint,
        )
        for tool in tools
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_every_tool_of_a_server_carries_the_hints_of_the_table(name: str, tmp_path: Path) -> None:
    listed = await _listed_hints(BUILDERS[name](tmp_path))
    unlisted = sorted(set(listed) - set(EXPECTED[name]))
    assert not unlisted, f"{name} tools without a row in EXPECTED (say what they do): {unlisted}"
    gone = sorted(set(EXPECTED[name]) - set(listed))
    assert not gone, f"{name} no longer has these tools: {gone}"
    wrong = {tool: hints for tool, hints in listed.items() if hints != EXPECTED[name][tool]}
    assert not wrong, f"{name} tools whose hints differ from the table (listed): {wrong}"
