"""Read-only means read-only: every write tool of gmail and calendar, under each flag, refused or done.

One table: each write tool (and each argument pattern that changes what it needs, such as labels
that add TRASH) with the flag it needs. Every case runs with no flag, with `--allow-write` and with
`--allow-send` (which implies `--allow-write`) over an in-memory MCP session on a real Maildir or
.ics file. Refused means a `ToolError` naming the missing flag and not one byte of the data changed;
done means the call succeeded and the data changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError

from mcp_servers.gmail.compose import compose
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.models import OutgoingMessage
from tests.mcp_servers import servers
from tests.mcp_servers.gmail.maildirs import deliver
from tests.mcp_servers.gmail.messages import message_with_attachment, plain_message

pytestmark = pytest.mark.anyio

WRITE, SEND = "--allow-write", "--allow-send"
FLAGS: dict[str, dict[str, bool]] = {"no flag": {}, WRITE: {"allow_write": True}, SEND: {"allow_send": True}}
MESSAGE = "<message id>"  # replaced by the id of the message in the test's Maildir
DRAFT = "<draft id>"  # replaced by the id of a draft saved before the call
ATTACHED = "<attached id>"  # a message with an attachment, delivered before the call
TRASHED = "<trashed id>"  # a message in the trash
SPAMMED = "<spammed id>"  # a message in spam
LABEL = "<label>"  # a user label (a Maildir folder) made before the call


@dataclass(frozen=True)
class Case:
    server: str
    tool: str
    needs: str
    arguments: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        return "-".join(part for part in (self.server, self.tool, self.label) if part)


_OWN = {"title": "Gym", "start": "2026-03-04T18:00", "end": "2026-03-04T19:00"}
CASES = [
    Case("gmail", "mark_read", WRITE, {"id": MESSAGE}),
    Case("gmail", "archive", WRITE, {"id": MESSAGE}),
    Case("gmail", "modify_labels", WRITE, {"id": MESSAGE, "add": ["STARRED"]}, "star"),
    Case("gmail", "modify_labels", WRITE, {"id": MESSAGE, "remove": ["INBOX"]}, "remove INBOX"),
    Case("gmail", "modify_labels", SEND, {"id": MESSAGE, "add": ["TRASH"]}, "add TRASH"),
    Case("gmail", "modify_labels", SEND, {"id": MESSAGE, "add": ["spam"]}, "add spam"),
    Case("gmail", "create_draft", WRITE, {"message": {"to": ["bob@example.org"], "subject": "Hi"}}),
    Case("gmail", "trash", SEND, {"id": MESSAGE}),
    Case("gmail", "send_message", SEND, {"message": {"to": ["bob@example.org"], "subject": "Hi"}}),
    Case("gmail", "send_draft", SEND, {"draft_id": DRAFT}),
    Case("gmail", "reply", SEND, {"id": MESSAGE, "body": "Thanks"}),
    Case("gmail", "forward", SEND, {"id": MESSAGE, "to": ["carol@example.org"]}),
    Case("gmail", "save_attachment", WRITE, {"id": ATTACHED, "attachment_id": "1"}),
    Case("gmail", "update_draft", WRITE, {"draft_id": DRAFT, "message": {"to": ["bob@example.org"], "subject": "New"}}),
    Case("gmail", "delete_draft", SEND, {"draft_id": DRAFT}),
    Case("gmail", "untrash", WRITE, {"id": TRASHED}),
    Case("gmail", "not_spam", WRITE, {"id": SPAMMED}),
    Case("gmail", "report_spam", SEND, {"id": MESSAGE}),
    Case("gmail", "create_label", WRITE, {"name": "Projects"}),
    Case("gmail", "rename_label", WRITE, {"name": LABEL, "new_name": "Clients"}),
    Case("gmail", "delete_label", SEND, {"name": LABEL}),
    Case("gmail", "batch_modify_labels", WRITE, {"ids": [MESSAGE], "add": ["STARRED"]}, "star"),
    Case("gmail", "batch_modify_labels", SEND, {"ids": [MESSAGE], "add": ["TRASH"]}, "add TRASH"),
    Case("calendar", "create_event", WRITE, {"draft": _OWN}, "own"),
    Case("calendar", "create_event", WRITE, {"draft": {**_OWN, "attendees": [servers.ME]}}, "only the user"),
    Case("calendar", "create_event", SEND, {"draft": {**_OWN, "attendees": ["ann@example.com"]}}, "invite"),
    Case("calendar", "update_event", WRITE, {"event_id": servers.OWN_EVENT, "changes": {"title": "Deep"}}, "own"),
    Case("calendar", "update_event", SEND,
         {"event_id": servers.OWN_EVENT, "changes": {"attendees": ["ann@example.com"]}}, "add an invitee"),
    Case("calendar", "update_event", SEND,
         {"event_id": servers.INVITATION, "changes": {"title": "Mine"}}, "someone else's"),
    Case("calendar", "delete_event", WRITE, {"event_id": servers.OWN_EVENT}, "own"),
    Case("calendar", "delete_event", SEND, {"event_id": servers.INVITATION}, "someone else's"),
    Case("calendar", "respond_to_invite", SEND, {"event_id": servers.INVITATION, "response": "declined"}),
    Case("calendar", "quick_add_event", WRITE, {"text": "Focus block on March 5 2026 at 9am"}),
    Case("calendar", "move_event", WRITE, {"event_id": servers.OWN_EVENT, "calendar": "home"}, "own"),
    Case("calendar", "move_event", SEND, {"event_id": servers.INVITATION, "calendar": "home"}, "someone else's"),
]  # fmt: skip


def refusal(case: Case, state: str) -> str | None:
    """The flag named in the refusal of `case` under `state`, or None when the call must be done."""
    granted = {"no flag": set(), WRITE: {WRITE}, SEND: {WRITE, SEND}}[state]
    return None if case.needs in granted else case.needs


def test_the_table_covers_every_write_tool_of_both_servers() -> None:
    from tests.mcp_servers.test_annotations import EXPECTED

    for server in ("gmail", "calendar"):
        writes = {tool for tool, hints in EXPECTED[server].items() if not hints[0]}
        assert writes == {case.tool for case in CASES if case.server == server}


async def _placeholders(case: Case, provider: MaildirProvider) -> dict[str, str]:
    """What each placeholder of `case` stands for, made in the Maildir before the call."""
    root, found = provider.root, dict[str, str]()
    if case.arguments.get("draft_id") == DRAFT:
        outgoing = OutgoingMessage(to=["bob@example.org"], subject="Drafted", body="Later")
        found[DRAFT] = (await provider.save_draft(compose(outgoing, servers.ME))).draft_id
    if ATTACHED in case.arguments.values():
        found[ATTACHED] = deliver(root, message_with_attachment("q3.pdf", b"%PDF-1.4"))
    for placeholder, folder in ((TRASHED, "Trash"), (SPAMMED, "Spam")):
        if placeholder in case.arguments.values():
            found[placeholder] = deliver(root, plain_message(subject="Moved"), folder=folder)
    if LABEL in case.arguments.values():
        for sub in ("cur", "new", "tmp"):
            (root / ".Projects" / sub).mkdir(parents=True)
        found[LABEL] = "Projects"
    await provider.scan()
    return found


async def _arguments(case: Case, provider: MaildirProvider | None, message: str) -> dict[str, Any]:
    swapped = {MESSAGE: message, **(await _placeholders(case, provider) if provider is not None else {})}
    return {
        key: swapped.get(value, value)
        if isinstance(value, str)
        else [swapped.get(item, item) for item in value]
        if isinstance(value, list)
        else value
        for key, value in case.arguments.items()
    }


@pytest.mark.parametrize("state", list(FLAGS))
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_write_tool_is_refused_naming_its_flag_without_it_and_done_with_it(
    case: Case, state: str, tmp_path: Path
) -> None:
    provider, message = None, ""
    if case.server == "gmail":
        server, provider, message = servers.gmail(tmp_path, **FLAGS[state])
        data = tmp_path / ("files" if case.tool == "save_attachment" else "Mail")
    else:
        server = servers.calendar(tmp_path, **FLAGS[state])
        data = servers.calendar_file(tmp_path).parent
        (data / "home.ics").write_text(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n"
        )
    flag = refusal(case, state)
    async with Client(server) as client:
        arguments = await _arguments(case, provider, message)
        before = servers.fingerprint(data)
        if flag is not None:
            with pytest.raises(
                ToolError, match=rf"^{case.tool}\b.* needs {re.escape(flag)}: .*{re.escape(flag)}"
            ):
                await client.call_tool(case.tool, arguments)
            assert servers.fingerprint(data) == before, "a refused call changed the data"
        else:
            await client.call_tool(case.tool, arguments)
            assert servers.fingerprint(data) != before, "the call succeeded but changed nothing"


async def test_the_refusal_names_the_environment_variable_too(tmp_path: Path) -> None:
    gmail: FastMCP = servers.gmail(tmp_path)[0]
    async with Client(gmail) as client:
        with pytest.raises(ToolError, match="PEPPER_GMAIL_ALLOW_WRITE=true"):
            await client.call_tool("create_draft", {"message": {"to": ["bob@example.org"]}})
    async with Client(servers.calendar(tmp_path, allow_write=True)) as client:
        with pytest.raises(ToolError, match="PEPPER_CALENDAR_ALLOW_SEND=true"):
            await client.call_tool(
                "respond_to_invite", {"event_id": servers.INVITATION, "response": "accepted"}
            )
