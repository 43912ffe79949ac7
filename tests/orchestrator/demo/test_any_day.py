"""The demo on each day of one week, early and late: what Pepper shows of it must not depend on the day.

For every moment of `WEEK` (Monday to Sunday, at 07:00 before the first meeting and at 18:30 when the
day's meetings are over) the demo is generated as of that moment and read the way Pepper reads it:
the rules triage of the inbox as of that moment (which mail is urgent, and the CEO's question only
high), the calendar's next two days as the calendar ingest asks for them (tomorrow's client review, a
renewal call still to come, nothing already over), today's meetings, and the sent mail still awaiting
an answer. The clock is pinned by passing `now` in, never read. The browser tests run a real Pepper at
one pinned moment (`tests/web/conftest.py`); these tests show that any other day would do as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mcp_servers.calendar.ics_provider import IcsProvider
from mcp_servers.calendar.models import Event
from orchestrator.demo import DEMO_TIMEZONE, DEMO_USER_ADDRESS, DemoSummary, generate_demo
from orchestrator.demo.agenda import ATLAS_TITLE, BOARD_TITLE, QBR_TITLE, RENEWAL_TITLE
from orchestrator.demo.people import CEO, MANAGER, VENDOR
from orchestrator.feeds.triage_rules import Triage, triage_email
from tests.support.clock import WEEK, moment_id

from .conftest import Stored, read_mailbox
from .test_mailbox import feed_view, follow_ups, profile

pytestmark = pytest.mark.anyio
ZONE = ZoneInfo(DEMO_TIMEZONE)
HORIZON = timedelta(days=2)  # what the orchestrator's calendar ingest asks `upcoming` for


@dataclass
class Day:
    """The demo generated at `now`, its mailbox, and the inbox triaged as of `now`."""

    now: datetime
    demo: DemoSummary
    mailbox: list[Stored]
    verdicts: dict[str, Triage]  # by subject, inbox mail only

    @property
    def today(self) -> date:
        return self.now.astimezone(ZONE).date()

    async def events(self, start: datetime, end: datetime) -> list[Event]:
        found = await IcsProvider([self.demo.calendar_dir], ZONE).list_events(start, end, None, 1000)
        assert found.errors == [] and not found.truncated
        return found.events


@pytest.fixture(scope="module", params=WEEK, ids=moment_id)
def day(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Day:
    now = request.param
    demo = generate_demo(tmp_path_factory.mktemp(moment_id(now)), now=now)
    mailbox = read_mailbox(demo.mail_dir)
    user = profile(mailbox)
    inbox = [stored for stored in mailbox if stored.folder == ""]
    verdicts = {s.message.subject: triage_email(feed_view(s), user, now) for s in inbox}
    return Day(now, demo, mailbox, verdicts)


def test_the_same_two_mails_are_urgent_on_any_day(day: Day) -> None:
    urgent = sorted(subject for subject, verdict in day.verdicts.items() if verdict.priority == "urgent")
    assert [subject.split(" (")[0] for subject in urgent] == [
        "Q4 budget template due tomorrow 5pm",
        "URGENT: Atlas numbers for the board deck, needed today",
    ]
    (budget,) = [day.verdicts[subject] for subject in urgent if subject.startswith("Q4 budget")]
    assert {d.due.date() for d in budget.deadlines} == {day.today + timedelta(days=1)}
    assert all(day.verdicts[subject].action_items for subject in urgent)


async def test_the_ceo_asks_for_time_before_the_board_meeting_on_any_day(day: Day) -> None:
    (subject,) = [s for s in day.verdicts if s == "Atlas pricing before the board"]
    question = day.verdicts[subject]
    board = [e for e in await day.events(day.now, day.now + timedelta(days=8)) if e.title == BOARD_TITLE]
    (meeting,) = board
    assert meeting.start.weekday() < 5 and meeting.start.date() >= day.today + timedelta(days=3)
    assert question.priority == "high" and question.action_items
    assert [d.due.date() for d in question.deadlines] == [meeting.start.date()]
    assert all(d.due > day.now for d in question.deadlines), "the question's deadline is already past"
    (mail,) = [s for s in day.mailbox if s.message.subject == subject]
    assert mail.message.from_.email == CEO.email and "UNREAD" in mail.message.labels


async def test_the_next_two_days_hold_the_client_review_and_a_call_still_to_come(day: Day) -> None:
    upcoming = await day.events(day.now, day.now + HORIZON)
    assert all(event.all_day or event.end > day.now for event in upcoming), "a meeting already over"
    (review,) = [event for event in upcoming if event.title == QBR_TITLE]
    assert review.start == datetime.combine(day.today + timedelta(days=1), datetime.min.time(), ZONE).replace(
        hour=10
    )
    assert {a.email: a.response for a in review.attendees}[DEMO_USER_ADDRESS] == "needs-action"
    (call,) = [event for event in upcoming if event.title == RENEWAL_TITLE]
    assert day.now + timedelta(minutes=45) <= call.start <= day.now + HORIZON
    launch = [event for event in upcoming if event.title == ATLAS_TITLE]
    assert len(launch) == (1 if day.now.astimezone(ZONE).hour < 16 else 0)


async def test_today_has_the_launch_review_and_a_standup_on_weekdays_only(day: Day) -> None:
    midnight = datetime.combine(day.today, datetime.min.time(), ZONE)
    titles = {event.title for event in await day.events(midnight, midnight + timedelta(days=1))}
    assert ATLAS_TITLE in titles
    assert ("Daily stand-up" in titles) == (day.today.weekday() < 5)
    assert ("Alex / Jordan 1:1" in titles) == (day.today.weekday() < 5)


def test_one_question_awaits_a_reply_and_is_overdue_on_any_day(day: Day) -> None:
    awaiting, answered = follow_ups(day.mailbox)
    (pending,) = awaiting
    assert pending.recipients[0] == VENDOR.email and pending.due_at < day.now
    assert [f.subject for f in answered if f.subject == "October churn by plan?"]


def test_the_manager_asks_for_the_numbers_by_four_today_on_any_day(day: Day) -> None:
    (subject,) = [s for s in day.verdicts if s.startswith("URGENT: Atlas numbers")]
    (mail,) = [s for s in day.mailbox if s.message.subject == subject]
    assert mail.message.from_.email == MANAGER.email and mail.message.date <= day.now
    assert mail.message.date.astimezone(ZONE).date() == day.today
    assert [d.due.astimezone(ZONE).hour for d in day.verdicts[subject].deadlines] == [16]
