"""The demo mailbox as Pepper's gmail server reads it: clean parses, consistent threads, the planted scenarios."""

from __future__ import annotations

import email
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from orchestrator.demo import DEMO_USER_ADDRESS, DemoSummary
from orchestrator.demo.bulk import NEWSLETTERS
from orchestrator.demo.people import CLIENT, MANAGER, VENDOR, VIPS
from orchestrator.feeds.follow_ups import FollowUp, answered_follow_up, follow_up_for
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_rules import triage_email

from .conftest import NOW, Stored


def feed_view(stored: Stored) -> Email:
    return Email.model_validate(stored.message.model_dump(by_alias=True))


def profile(mailbox: list[Stored]) -> UserProfile:
    """The user as `run --demo` configures them (the summary's VIPs), plus what their sent mail teaches."""
    user = UserProfile(addresses={DEMO_USER_ADDRESS}, vips={p.email for p in VIPS})
    for stored in mailbox:
        if stored.folder == "Sent":
            user.learn_from_sent(feed_view(stored))
    return user


def by_subject(mailbox: list[Stored], words: str) -> list[Stored]:
    return [s for s in mailbox if words.lower() in s.message.subject.lower()]


def test_mailbox_parses_without_defects_with_the_gmail_parser(mailbox: list[Stored]) -> None:
    assert len(mailbox) > 200
    assert {s.message.id: s.message.defects for s in mailbox if s.message.defects} == {}
    assert all(s.message.message_id and s.message.from_ and s.message.subject for s in mailbox)
    assert all(NOW - timedelta(weeks=7) < s.message.date <= NOW for s in mailbox)


def test_mailbox_spreads_over_several_weeks_and_every_folder(mailbox: list[Stored]) -> None:
    weeks = Counter((NOW - s.message.date).days // 7 for s in mailbox)
    folders = Counter(s.folder for s in mailbox)
    assert all(weeks[week] >= 20 for week in range(6))
    assert set(folders) == {"", "Sent", "Drafts", "Trash", "Archive"}
    assert folders[""] > folders["Sent"] > folders["Archive"] > 0


def test_mailbox_message_ids_are_unique(mailbox: list[Stored]) -> None:
    ids = Counter(s.message.message_id for s in mailbox)
    assert ids.most_common(1)[0][1] == 1


def test_mailbox_replies_point_at_earlier_messages_of_their_thread(mailbox: list[Stored]) -> None:
    known = {s.message.message_id: s.message for s in mailbox}
    replies = [s.message for s in mailbox if s.message.in_reply_to]
    assert len(replies) > 60
    for reply in replies:
        parent = known[reply.in_reply_to]
        assert reply.references[-1] == reply.in_reply_to
        assert all(ref in known for ref in reply.references)
        assert parent.date <= reply.date
        assert reply.thread_id == parent.thread_id


def test_mailbox_flags_read_old_mail_and_leaves_recent_mail_unread(
    demo: DemoSummary, mailbox: list[Stored]
) -> None:
    inbox = [s for s in mailbox if s.folder == ""]
    recent = [s for s in inbox if NOW - s.message.date < timedelta(hours=6)]
    assert recent and all("UNREAD" in s.message.labels for s in recent)
    assert all(s.path.parent.name == "new" and ":" not in s.path.name for s in recent)
    old = [s for s in inbox if NOW - s.message.date > timedelta(days=3)]
    assert sum("UNREAD" not in s.message.labels for s in old) > 0.8 * len(old)
    assert any("STARRED" in s.message.labels for s in mailbox)
    assert demo.unread == sum("UNREAD" in s.message.labels for s in mailbox)


def test_mailbox_user_mail_is_in_sent_and_drafts_only(mailbox: list[Stored]) -> None:
    own = {s.folder for s in mailbox if s.message.from_ and s.message.from_.email == DEMO_USER_ADDRESS}
    assert own == {"Sent", "Drafts"}
    assert all(s.flags == "DS" for s in mailbox if s.folder == "Drafts")


def test_mailbox_bodies_have_quotes_signatures_and_html_newsletters(mailbox: list[Stored]) -> None:
    assert sum(bool(s.message.quoted) for s in mailbox) > 30
    assert sum(bool(s.message.signature) for s in mailbox) > 50
    bulk = [s for s in mailbox if s.message.list_headers.list_id and s.message.list_headers.list_unsubscribe]
    senders = {sender.email for sender, _, _ in NEWSLETTERS}
    newsletters = [s for s in bulk if s.message.from_.email in senders]
    assert len(newsletters) >= 40 and len(bulk) > len(newsletters)
    assert all(s.message.list_headers.precedence == "bulk" for s in newsletters)
    for stored in newsletters:
        parsed = email.message_from_bytes(stored.path.read_bytes())
        assert [p.get_content_type() for p in parsed.walk()] == [
            "multipart/alternative",
            "text/plain",
            "text/html",
        ]
    assert all(triage_email(feed_view(s), UserProfile()).category == "bulk" for s in bulk)


def test_mailbox_has_a_request_due_tomorrow_with_weekday_and_date(mailbox: list[Stored]) -> None:
    (stored,) = by_subject(mailbox, "due tomorrow")
    text = stored.message.text
    assert "by tomorrow 5pm" in text and "Wednesday 25 November" in text
    assert stored.message.date.date() == NOW.date() and "UNREAD" in stored.message.labels
    verdict = triage_email(feed_view(stored), profile(mailbox))
    assert {d.due.replace(tzinfo=None) for d in verdict.deadlines} == {datetime(2026, 11, 25, 17, 0)}
    assert verdict.category == "action" and verdict.priority in ("high", "urgent")


def test_mailbox_has_an_urgent_request_from_the_manager_today(mailbox: list[Stored]) -> None:
    (stored,) = [s for s in by_subject(mailbox, "urgent") if s.message.from_.email == MANAGER.email]
    assert stored.message.date.date() == NOW.date()
    user = profile(mailbox)
    verdict = triage_email(feed_view(stored), user, now=NOW)
    late = triage_email(feed_view(stored), user, now=NOW.replace(hour=18))  # after its 4pm deadline
    assert "UNREAD" in stored.message.labels and user.sender_importance(feed_view(stored).sender) >= 2
    assert verdict.priority == "urgent" and "marked urgent in the subject" in verdict.reasons
    assert late.priority == "urgent"


def test_mailbox_has_vip_mail_asking_the_user_something(mailbox: list[Stored]) -> None:
    user = profile(mailbox)
    vip_mail = [s for s in mailbox if s.message.from_.email in {p.email for p in VIPS} and s.folder == ""]
    verdicts = [triage_email(feed_view(s), user) for s in vip_mail]
    assert sum("sender is a VIP" in v.reasons and v.action_items != [] for v in verdicts) >= 2


def follow_ups(mailbox: list[Stored]) -> tuple[list[FollowUp], list[FollowUp]]:
    """Replay the mailbox in date order: (still awaiting, answered)."""
    user, awaiting, answered = profile(mailbox), [], []
    for stored in sorted(mailbox, key=lambda s: s.message.date):
        view = feed_view(stored)
        if stored.folder == "Sent" and (started := follow_up_for(view, user)):
            awaiting.append(started)
        elif stored.folder in ("", "Archive") and (done := answered_follow_up(view, awaiting)):
            awaiting.remove(done)
            answered.append(done)
    return awaiting, answered


def test_mailbox_has_exactly_one_question_still_awaiting_a_reply(mailbox: list[Stored]) -> None:
    awaiting, answered = follow_ups(mailbox)
    (pending,) = awaiting
    assert pending.recipients[0] == VENDOR.email and pending.due_at < NOW
    assert NOW - pending.sent_at > timedelta(days=3)
    assert any(f.subject == "October churn by plan?" for f in answered)


def test_mailbox_invitations_carry_the_calendar_events(demo: DemoSummary, mailbox: list[Stored]) -> None:
    invitations = by_subject(mailbox, "Invitation:")
    work = icalendar.Calendar.from_ical((demo.calendar_dir / "work.ics").read_bytes())
    in_calendar = {str(event["UID"]): event for event in work.walk("VEVENT")}
    starts = {}
    for stored in invitations:
        assert [a.name for a in stored.message.attachments] == ["invite.ics"]
        parts = email.message_from_bytes(stored.path.read_bytes()).walk()
        (request,) = [p for p in parts if p.get_content_type() == "text/calendar"]
        assert request.get_param("method") == "REQUEST"
        (event,) = icalendar.Calendar.from_ical(request.get_payload(decode=True)).walk("VEVENT")
        assert event.to_ical() == in_calendar[str(event["UID"])].to_ical()
        answers = {str(a): a.params["PARTSTAT"] for a in event["ATTENDEE"]}
        assert answers[f"mailto:{DEMO_USER_ADDRESS}"] == "NEEDS-ACTION"
        assert f"mailto:{stored.message.from_.email}" == str(event["ORGANIZER"])
        starts[stored.message.from_.email] = event["DTSTART"].dt
    assert starts[CLIENT.email] == datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Europe/London"))
    assert len(starts) == 2
