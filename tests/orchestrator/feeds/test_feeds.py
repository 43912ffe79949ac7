"""Feeds over real servers: mail and calendar through ingest into signals, as named consumers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.ingest import CalendarIngest, MailIngest
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.feeds.meeting_feed import MeetingFeed, related_mail_query
from orchestrator.feeds.runner import run_feed

pytestmark = pytest.mark.anyio
ME = "me@example.org"


def deliver(
    tmp_path: Path, name: str, sender: str, to: str, subject: str, body: str, folder: str = "", **headers: str
) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{name}@example.org>"
    message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    target = tmp_path / "mail" / folder / "new"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.eml").write_bytes(bytes(message))


async def drain(feed, log: EventLog, until) -> None:
    """Run the feed until `until()` holds."""
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_feed, feed, log)
        with anyio.fail_after(30):
            while not await until():  # noqa: ASYNC110 - the feed writes through another process
                await anyio.sleep(0.1)
        task_group.cancel_scope.cancel()


@pytest.mark.servers("context", "gmail")
async def test_mail_feed_triages_mail_and_tracks_follow_ups_until_answered(
    connections, tmp_path: Path
) -> None:
    items = ContextItems(connections["context"])
    deliver(
        tmp_path,
        "ask",
        "Dana <dana@example.org>",
        ME,
        "Contract",
        "Could you sign the contract by tomorrow at 5pm?",
    )
    deliver(
        tmp_path,
        "news",
        "News <news@shop.example>",
        ME,
        "Deals",
        "Big sale",
        List_Unsubscribe="<mailto:u@shop.example>",
    )
    deliver(
        tmp_path,
        "sent",
        f"Me <{ME}>",
        "sam@example.org",
        "Budget",
        "Could you confirm the totals?",
        folder=".Sent",
    )
    await MailIngest(connections["gmail"], items).sync()
    feed = MailFeed(items, user_addresses=[ME], vips=[], now=lambda: datetime(2026, 11, 24, 10, tzinfo=UTC))
    log = EventLog(connections["context"], idle_poll=0.5)

    async def three_signals() -> bool:
        return len(await items.query(["signals.*"])) >= 3

    await drain(feed, log, three_signals)
    signals = {item.data["summary"].split(":")[0]: item.data for item in await items.query(["signals.*"])}
    # Dana is a stranger (the user never wrote to her): her deadline is noted, not raised.
    assert signals["Dana"]["priority"] == "normal" and signals["Dana"]["category"] == "action"
    assert signals["News"]["category"] == "bulk"
    assert signals["waiting"]["kind"] == "follow_up"
    assert feed.profile is not None and feed.profile.sent_to["sam@example.org"] == 1

    deliver(
        tmp_path,
        "answer",
        "Sam <sam@example.org>",
        ME,
        "Re: Budget",
        "Confirmed.",
        In_Reply_To="<sent@example.org>",
    )
    await MailIngest(connections["gmail"], items).sync()

    async def follow_up_gone() -> bool:
        return await items.query(["signals.follow_up"]) == []

    await drain(MailFeed(items, [ME], []), log, follow_up_gone)


@pytest.mark.servers("context", "calendar", "gmail")
async def test_meeting_feed_writes_a_brief_for_each_upcoming_event(connections, tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    tomorrow = (start + timedelta(days=1)).date()
    (tmp_path / "calendar" / "work.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:review-1\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:Budget review\r\nDESCRIPTION:Go through Q4 numbers\r\nLOCATION:Room 4\r\n"
        "ATTENDEE;CN=Sam;PARTSTAT=NEEDS-ACTION:mailto:sam@example.org\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:offsite-1\r\nDTSTART;VALUE=DATE:{tomorrow:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{tomorrow + timedelta(days=1):%Y%m%d}\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    items = ContextItems(connections["context"])
    # Related mail is asked of the gmail server's index: from an attendee, or with every title word.
    deliver(tmp_path, "q4", "Sam <sam@example.org>", ME, "Q4 budget numbers", "Numbers for the review")
    deliver(tmp_path, "plan", "Lee <lee@example.org>", ME, "Budget review agenda", "See you there")
    deliver(tmp_path, "lunch", "Lee <lee@example.org>", ME, "Lunch", "The budget for lunch")
    assert await CalendarIngest(connections["calendar"], items).sync() == 2
    assert await CalendarIngest(connections["calendar"], items).sync() == 0  # unchanged: not rewritten

    async def two_meetings() -> bool:
        return len(await items.query(["signals.meeting"])) == 2

    feed = MeetingFeed(items, mail=connections["gmail"])
    await drain(feed, EventLog(connections["context"], idle_poll=0.5), two_meetings)
    meetings = {item.data["summary"]: item.data for item in await items.query(["signals.meeting"])}
    review, offsite = meetings["Budget review"], meetings["Offsite"]
    assert review["priority"] == "high" and review["all_day"] is False
    lines = review["brief"].splitlines()
    assert lines[:4] == ["Agenda: Go through Q4 numbers", "With: Sam", "Not confirmed: Sam", "Where: Room 4"]
    assert sorted(lines[4:]) == ["Related mail: Budget review agenda", "Related mail: Q4 budget numbers"]
    assert offsite["all_day"] is True and offsite["priority"] == "normal"
    assert offsite["starts_at"].startswith(tomorrow.isoformat())


def test_related_mail_query_asks_for_mail_about_the_title_from_an_attendee_or_with_every_title_word() -> None:
    meeting = {
        "title": "Budget: review (Q4)",
        "attendees": [{"email": "sam@example.org"}, {"email": "not an address"}, {"name": "Lee"}],
    }
    assert related_mail_query(meeting) == "({from:sam@example.org} {Budget Q4}) OR (Budget review Q4)"
    assert related_mail_query({"title": "Offsite"}) == "(Offsite)"
    assert related_mail_query({"title": "Daily stand-up", "attendees": [{"email": "sam@example.org"}]}) == ""
    assert related_mail_query({"title": ""}) == ""
