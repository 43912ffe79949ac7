"""The conversation engine acting through real MCP servers (child processes over stdio, as Pepper
runs them): reminders in the notify server, mail read from the context store, meetings and free
time from the calendar server, and reply drafts that wait at the approval desk."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from orchestrator.mcp_clients import ServerConnection
from orchestrator.profile import ProfileBook, ProfileChange
from orchestrator.trust.actions import ContextActionStore, Signer
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.workers.toolbox import Toolbox

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
PINNED = datetime(2026, 3, 11, 10, 0, tzinfo=BERLIN)  # a Wednesday
USER = "alex@example.com"


def conversation(
    connections: dict[str, ServerConnection], clock: Any = lambda: PINNED, **extra: Any
) -> Conversation:
    services = Services(connections, ContextItems(connections["context"]), user_addresses=[USER], **extra)
    return Conversation(services, clock)


async def store_mail(
    items: ContextItems, message_id: str, sender: tuple[str, str], subject: str, text: str, at: datetime
) -> None:
    data = {
        "id": message_id, "thread_id": f"t-{message_id}", "from": {"name": sender[0], "email": sender[1]},
        "to": [{"name": "Alex Morgan", "email": USER}], "date": at.isoformat(), "subject": subject, "text": text,
        "labels": ["INBOX", "UNREAD"],
    }  # fmt: skip
    await items.put("raw.email", message_id, data, f"{subject}\n{sender[0]} <{sender[1]}>\n{text}")


@pytest.mark.servers("context", "notify")
async def test_a_reminder_is_created_listed_and_cancelled_in_the_notify_server(connections) -> None:
    now = datetime.now(BERLIN)
    talk = conversation(connections, clock=lambda: datetime.now(BERLIN))
    created = await talk.answer("remind me to call Dana at 3pm tomorrow")
    tomorrow = (now + timedelta(days=1)).date()
    assert created.text == "I'll remind you tomorrow at 15:00: Call Dana" and not created.question
    reminders = (await connections["notify"].call_tool("list_reminders", {})).structured["reminders"]
    assert [r["message"] for r in reminders] == ["Call Dana"]
    fire = datetime.fromisoformat(reminders[0]["next_fire_at"]).astimezone(BERLIN)
    assert (fire.date(), fire.hour, fire.minute) == (tomorrow, 15, 0)
    listed = await talk.answer("what are my reminders?")
    assert "1. Call Dana — tomorrow at 15:00" in listed.text
    cancelled = await talk.answer("cancel the first reminder")
    assert cancelled.text == "Cancelled: Call Dana"
    assert (await connections["notify"].call_tool("list_reminders", {})).structured["reminders"] == []


@pytest.mark.servers("context", "notify")
async def test_a_reminder_without_a_time_asks_and_creates_nothing(connections) -> None:
    answer = await conversation(connections, clock=lambda: datetime.now(BERLIN)).answer(
        "remind me to call Dana"
    )
    assert answer.question and answer.text.startswith("When should I remind you?")
    assert (await connections["notify"].call_tool("list_reminders", {})).structured["reminders"] == []


@pytest.mark.servers("context")
async def test_mail_from_a_person_is_listed_and_a_second_tom_gets_a_question(connections) -> None:
    items = ContextItems(connections["context"])
    await store_mail(
        items,
        "m1",
        ("Priya Raman", "priya@northwind.example"),
        "Agenda for the review",
        "See the agenda.",
        PINNED - timedelta(hours=3),
    )
    await store_mail(
        items,
        "m2",
        ("Tom Fischer", "tom.fischer@example.com"),
        "Budget template",
        "Due Friday.",
        PINNED - timedelta(hours=2),
    )
    await store_mail(
        items,
        "m3",
        ("Tom Berg", "tom.berg@example.org"),
        "Lunch?",
        "Free on Friday?",
        PINNED - timedelta(hours=1),
    )
    talk = conversation(connections)
    priya = await talk.answer("what did Priya send me?")
    assert priya.text.startswith("From Priya:\n1. **Priya Raman** — Agenda for the review")
    toms = await talk.answer("any mail from Tom?")
    assert toms.question and "Which Tom" in toms.text
    assert "tom.fischer@example.com" in toms.text and "tom.berg@example.org" in toms.text


@pytest.mark.servers("context")
async def test_the_first_one_of_a_list_is_summarized_with_its_ask_and_deadline(connections) -> None:
    items = ContextItems(connections["context"])
    text = "Hi Alex,\n\nThe Atlas launch moved a week. Could you update the pricing page by Friday?\n\nThanks,\nDana"
    await store_mail(
        items,
        "m1",
        ("Dana Whitfield", "dana@example.com"),
        "Atlas launch moved",
        text,
        PINNED - timedelta(hours=1),
    )
    talk = conversation(connections)
    assert (
        "1. **Dana Whitfield** — Atlas launch moved" in (await talk.answer("what's new since yesterday")).text
    )
    summary = (await talk.answer("summarize the first one")).text
    assert summary.startswith("**Atlas launch moved** — 1 message(s) from Dana Whitfield")
    assert "- The Atlas launch moved a week." in summary and "Hi Alex" not in summary
    assert "Could you update the pricing page by Friday?" in summary
    assert "- due: Fri 13 Mar (by Friday)" in summary


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pepper tests//EN
BEGIN:VEVENT
UID:today-standup
DTSTART;TZID=Europe/Berlin:20260311T113000
DTEND;TZID=Europe/Berlin:20260311T120000
SUMMARY:Team standup
END:VEVENT
BEGIN:VEVENT
UID:tomorrow-review
DTSTART;TZID=Europe/Berlin:20260312T140000
DTEND;TZID=Europe/Berlin:20260312T150000
SUMMARY:Atlas review
END:VEVENT
END:VCALENDAR
"""


@pytest.mark.servers("context", "calendar")
async def test_tomorrows_meetings_are_tomorrows_and_free_time_goes_around_them(
    connections, tmp_path: Path
) -> None:
    (tmp_path / "calendar" / "work.ics").write_text(ICS, encoding="utf-8")
    talk = conversation(connections)
    tomorrow = await talk.answer("what meetings do I have tomorrow?")
    assert tomorrow.text.startswith("Meetings tomorrow:") and "Atlas review" in tomorrow.text
    assert "Team standup" not in tomorrow.text
    free = (await talk.answer("when am I free tomorrow afternoon?")).text
    assert free.startswith("You are free:")
    assert "14:00–15:00" not in free and "- 12:00–14:00" in free and "15:00" in free


@pytest.mark.servers("context", "gmail")
async def test_a_reply_draft_waits_for_approval_and_sends_nothing(connections, tmp_path: Path) -> None:
    items = ContextItems(connections["context"])
    await store_mail(
        items,
        "m9",
        ("Tom Fischer", "tom@example.com"),
        "Q4 budget",
        "Can you send the numbers?",
        PINNED - timedelta(hours=1),
    )
    toolbox = Toolbox(connections)
    await toolbox.load()
    desk = ApprovalDesk(ContextActionStore(items, Signer(b"k" * 32)), toolbox.call, toolbox.tools)
    profiles = ProfileBook(items, [USER], [])
    await profiles.apply(ProfileChange(action="set_name", value="Alex Morgan"))
    talk = conversation(connections, desk=desk, tools=toolbox.tools, profiles=profiles)
    answer = await talk.answer("tell Tom I'll send it tonight")
    (pending,) = await desk.pending()
    assert (pending.server, pending.tool, pending.requested_by) == ("gmail", "reply", "user")
    assert pending.arguments == {"id": "m9", "body": "Hi Tom,\n\nI'll send it tonight.\n\nBest,\nAlex Morgan"}
    assert f"approve {pending.id}" in answer.text
    sent = [path for path in (tmp_path / "mail").rglob("*") if path.is_file() and ".Sent" in path.parts]
    assert sent == [], "nothing may be sent before approval"


@pytest.mark.servers("context", "notify")
async def test_the_digest_time_is_set_asked_and_the_digest_sent_now(connections) -> None:
    talk = conversation(connections, clock=lambda: datetime.now(BERLIN))
    assert (await talk.answer("what time is my digest?")).text.startswith("No daily digest is set")
    assert (await talk.answer("send my digest at 7:30")).text == "Your daily digest now comes at 07:30."
    assert (await talk.answer("when does the digest come?")).text == "Your daily digest comes at 07:30."
    sent = await talk.answer("send me the digest now")
    assert sent.text.startswith("Digest sent") and sent.text.endswith("the daily one comes at 07:30.")
    schedules = (await connections["notify"].call_tool("list_reminders", {})).structured["reminders"]
    assert [s["kind"] for s in schedules] == ["digest"]
