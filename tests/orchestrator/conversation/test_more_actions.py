"""The intents not acted on elsewhere, through real servers: the next meeting (with a person) and its
brief from the calendar server and the meeting feed's signals, mail about a topic, whom the user
waits on (the follow-ups), and the help text for what cannot be placed, led by the closest request.
The calendar server reads its own clock, so these meetings are dated from the real one."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from tests.orchestrator.conversation.test_actions import BERLIN, PINNED, USER, conversation

pytestmark = pytest.mark.anyio


def review_tomorrow() -> tuple[datetime, str]:
    start = (datetime.now(BERLIN) + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    ics = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//pepper tests//EN\nBEGIN:VEVENT\nUID:review\n"
        f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}\nDTEND;TZID=Europe/Berlin:{start + timedelta(hours=1):%Y%m%dT%H%M%S}\n"
        "SUMMARY:Atlas review\nATTENDEE;CN=Omar Haddad:mailto:omar@example.com\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    return start, ics


@pytest.mark.servers("context", "calendar")
async def test_the_next_meeting_with_a_person_and_its_brief(connections, tmp_path: Path) -> None:
    start, ics = review_tomorrow()
    (tmp_path / "calendar" / "work.ics").write_text(ics, encoding="utf-8")
    items = ContextItems(connections["context"])
    brief = {
        "summary": "Atlas review",
        "starts_at": start.isoformat(),
        "source_id": "review",
        "people": ["Omar Haddad"],
    }
    await items.put(
        "signals.meeting", "review", {**brief, "brief": "Omar asked for the Q3 numbers."}, "Atlas review"
    )
    talk = conversation(connections, clock=lambda: datetime.now(BERLIN))
    following = (await talk.answer("what's my next meeting?")).text
    assert following.startswith(
        f"Next: **Atlas review** tomorrow ({start:%a} 14:00)"
    ) or following.startswith("Next: **Atlas review** in ")
    assert following.endswith("with Omar Haddad.")
    assert "Atlas review" in (await talk.answer("when do I next meet Omar?")).text
    assert (
        await talk.answer("when do I next meet Priya?")
    ).text == "No meeting with Priya in the next two weeks."
    assert (await talk.answer("brief me on my next meeting")).text == (
        f"**Atlas review** ({start:%a} 14:00)\nOmar asked for the Q3 numbers."
    )


@pytest.mark.servers("context", "gmail")
async def test_mail_about_a_topic_and_whom_the_user_waits_on(connections, tmp_path: Path) -> None:
    items = ContextItems(connections["context"])
    # Mail about a topic is asked of the gmail server's index (the one keyword index of mail).
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "Dana Whitfield <dana@example.com>",
        USER,
        "Atlas pricing",
    )
    message["Date"], message["Message-ID"] = format_datetime(PINNED - timedelta(hours=1)), "<m1@example.com>"
    message.set_content("The pricing page needs an update.")
    (tmp_path / "mail" / "new").mkdir(parents=True, exist_ok=True)
    (tmp_path / "mail" / "new" / "m1.eml").write_bytes(bytes(message))
    follow_up = {
        "summary": "Tom Fischer: Budget — no reply for 3 days",
        "people": ["Tom Fischer"],
        "source_id": "f1",
    }
    await items.put("signals.follow_up", "f1", {**follow_up, "priority": "normal"}, follow_up["summary"])
    talk = conversation(connections)
    about = (await talk.answer("find mail about pricing")).text
    assert about.startswith("Mail about pricing:\n1. **Dana Whitfield** — Atlas pricing")
    assert (await talk.answer("any emails about the offsite?")).text == "No mail about offsite."
    assert (await talk.answer("who am I waiting on?")).text == (
        "Waiting for replies:\n1. Tom Fischer: Budget — no reply for 3 days"
    )
    assert (await talk.answer("has Sam replied?")).text == "You are not waiting on Sam."


async def test_a_request_it_cannot_place_gets_the_help_text_led_by_the_closest() -> None:
    talk = Conversation(Services({}, None), lambda: PINNED)  # type: ignore[arg-type]  # the help needs no server
    answer = await talk.answer("translate the draft into French")
    lines = answer.text.splitlines()
    assert answer.intent == "unknown" and not answer.question
    assert lines[0] == "I did not understand that. Without a language model I can do these:"
    assert lines[1].startswith("- **tell Tom I'll send it tonight** — a reply draft")
    assert len(lines) == 1 + len(talk.language.help_lines)
