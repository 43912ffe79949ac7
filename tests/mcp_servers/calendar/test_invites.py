"""Invitations for ICS calendars: iTIP e-mails in an outbox folder, and through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from aiosmtpd.controller import Controller
from fastmcp import Client

from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.invites import OutboxFolder, mailer_from
from mcp_servers.calendar.provider import EventDraft, EventPatch
from mcp_servers.calendar.server import build_server
from mcp_servers.calendar.settings import CalendarSettings
from tests.mcp_servers.calendar.recurrence_scenario import ZONE
from tests.support.processes import free_port

ME = "me@example.com"
START = datetime(2026, 3, 3, 10, tzinfo=ZONE)


def _read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _itip(message: EmailMessage) -> tuple[str, icalendar.Calendar]:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())


def _sent(outbox: Path) -> list[tuple[str, str, str, int, str]]:
    """(method, To, UID, SEQUENCE, STATUS) of every message in the outbox, oldest first."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = _read(path)
        method, calendar = _itip(message)
        event = calendar.walk("VEVENT")[0]
        assert str(calendar["METHOD"]) == method and message["From"] == ME
        found.append(
            (method, message["To"], str(event["UID"]), int(event["SEQUENCE"]), str(event.get("STATUS", "")))
        )
    return found


@pytest.fixture
def provider(tmp_path: Path) -> IcsProvider:
    return IcsProvider([tmp_path / "work.ics"], ZONE, organizer=ME, mailer=OutboxFolder(tmp_path / "outbox"))


def _draft(**extra: object) -> EventDraft:
    return EventDraft(title="Design review", start=START, end=START.replace(hour=11), **extra)


@pytest.mark.anyio
async def test_invites_request_on_create_and_a_higher_sequence_on_update(
    provider: IcsProvider, tmp_path: Path
) -> None:
    created = await provider.create_event(_draft(attendees=["ann@example.com", "bob@example.com"]))
    await provider.update_event(created.id, EventPatch(start=START.replace(hour=14)))
    assert _sent(tmp_path / "outbox") == [
        ("REQUEST", "ann@example.com, bob@example.com", created.uid, 0, ""),
        ("REQUEST", "ann@example.com, bob@example.com", created.uid, 1, ""),
    ]
    messages = sorted((tmp_path / "outbox").glob("*.eml"))
    assert _read(messages[0])["Subject"] == "Invitation: Design review"
    assert _read(messages[1])["Subject"] == "Updated invitation: Design review"
    _, calendar = _itip(_read(messages[1]))
    assert calendar.walk("VEVENT")[0]["DTSTART"].dt == START.replace(hour=14)


@pytest.mark.anyio
async def test_invites_cancel_to_a_dropped_attendee_and_to_everyone_on_delete(
    provider: IcsProvider, tmp_path: Path
) -> None:
    created = await provider.create_event(_draft(attendees=["ann@example.com", "bob@example.com"]))
    await provider.update_event(created.id, EventPatch(attendees=["ann@example.com"]))
    await provider.delete_event(created.id)
    assert _sent(tmp_path / "outbox")[1:] == [
        ("REQUEST", "ann@example.com", created.uid, 1, ""),
        ("CANCEL", "bob@example.com", created.uid, 1, "CANCELLED"),
        ("CANCEL", "ann@example.com", created.uid, 2, "CANCELLED"),
    ]


@pytest.mark.anyio
async def test_invites_send_the_series_again_when_one_occurrence_is_cancelled(
    provider: IcsProvider, tmp_path: Path
) -> None:
    created = await provider.create_event(
        _draft(attendees=["ann@example.com"], recurrence="FREQ=WEEKLY;COUNT=3")
    )
    await provider.update_event(f"{created.id}:20260310T090000Z", EventPatch(cancel=True))
    last = sorted((tmp_path / "outbox").glob("*.eml"))[-1]
    method, calendar = _itip(_read(last))
    master = calendar.walk("VEVENT")[0]
    assert method == "REQUEST" and int(master["SEQUENCE"]) == 1
    assert [d.dt for d in master["EXDATE"].dts] == [START.replace(day=10)]


@pytest.mark.anyio
async def test_invites_reply_to_the_organizer_of_someone_elses_event_and_nothing_without_guests(
    provider: IcsProvider, tmp_path: Path
) -> None:
    await provider.create_event(_draft())
    calendar_file = tmp_path / "work.ics"
    text = calendar_file.read_text().replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:boss-meeting@example.com\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:2\r\n"
        "DTSTART:20260304T090000Z\r\nDTEND:20260304T100000Z\r\nSUMMARY:Boss's meeting\r\n"
        "ORGANIZER:mailto:boss@example.com\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR",
    )
    calendar_file.write_text(text)
    await provider.respond_to_invite("work:boss-meeting@example.com", ME, "accepted")
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = _read(path)
    method, calendar = _itip(message)
    event = calendar.walk("VEVENT")[0]
    assert (method, message["To"], message["Subject"]) == (
        "REPLY",
        "boss@example.com",
        "Accepted: Boss's meeting",
    )
    assert int(event["SEQUENCE"]) == 2  # the organizer's version, answered: an answer is no new version
    assert [(str(a), a.params["PARTSTAT"]) for a in [event["ATTENDEE"]]] == [
        ("mailto:me@example.com", "ACCEPTED")
    ]
    await provider.respond_to_invite("work:boss-meeting@example.com", ME, "accepted")  # no change: no mail
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_mailer_from_settings_needs_the_organizers_address(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="PEPPER_CALENDAR_USER_EMAIL"):
        mailer_from(CalendarSettings(invite_outbox=tmp_path, state_dir=tmp_path))
    assert mailer_from(CalendarSettings(state_dir=tmp_path)) is None


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, _Sink]]:
    sink, port = _Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()


@pytest.mark.anyio
async def test_server_sends_invitations_through_smtp_with_allow_send(
    smtp_sink: tuple[int, _Sink], tmp_path: Path
) -> None:
    port, sink = smtp_sink
    settings = CalendarSettings(
        ics=[tmp_path / "work.ics"], timezone="Europe/Berlin", state_dir=tmp_path / "state", user_email=ME,
        allow_send=True, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
    )  # fmt: skip
    async with Client(build_server(settings)) as client:
        draft = {"title": "Kick-off", "start": "2026-03-05T10:00", "end": "2026-03-05T11:00",
                 "attendees": ["ann@example.com"]}  # fmt: skip
        created = (await client.call_tool("create_event", {"draft": draft})).structured_content
        await client.call_tool("delete_event", {"event_id": created["id"]})
    assert [(sender, recipients) for sender, recipients, _ in sink.messages] == [
        (ME, ["ann@example.com"])
    ] * 2
    methods = [
        _itip(email.message_from_bytes(raw, policy=email.policy.default)) for _, _, raw in sink.messages
    ]
    assert [(m, str(c.walk("VEVENT")[0]["UID"])) for m, c in methods] == [
        ("REQUEST", created["uid"]),
        ("CANCEL", created["uid"]),
    ]


TWO_SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-TIMEZONE:Europe/Berlin
BEGIN:VEVENT
UID:standup@example.com
DTSTAMP:20260101T000000Z
DTSTART:20260302T080000Z
DTEND:20260302T081500Z
RRULE:FREQ=WEEKLY;COUNT=5
SUMMARY:Standup
SEQUENCE:3
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@example.com
END:VEVENT
BEGIN:VEVENT
UID:retro@example.com
DTSTAMP:20260101T000000Z
DTSTART:20260306T140000Z
DTEND:20260306T150000Z
SUMMARY:Retro
ORGANIZER:mailto:me@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com
END:VEVENT
END:VCALENDAR
"""


@pytest.mark.anyio
async def test_invites_go_only_to_the_series_that_changed_in_a_google_export(
    provider: IcsProvider, tmp_path: Path
) -> None:
    (tmp_path / "work.ics").write_text(TWO_SERIES.replace("\n", "\r\n"))
    await provider.update_event("work:retro@example.com", EventPatch(title="Retrospective"))
    assert _sent(tmp_path / "outbox") == [("REQUEST", "bob@example.com", "retro@example.com", 1, "")]
    await provider.update_event("work:standup@example.com:20260309T080000Z", EventPatch(cancel=True))
    assert _sent(tmp_path / "outbox")[1:] == [("REQUEST", "ann@example.com", "standup@example.com", 4, "")]
