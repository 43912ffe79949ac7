"""The moments the demo exists to show, planted on purpose among the everyday mail.

- an urgent request from the manager this morning, with a deadline later today;
- a request due tomorrow at 17:00, naming tomorrow's weekday and date;
- a question the user sent a vendor days ago that is still waiting for an answer, and one a
  colleague did answer (In-Reply-To and References point at the question);
- a calendar invitation from a VIP client for tomorrow's meeting (the calendar has the same UID);
- a pre-read thread for today's launch review, which the meeting brief should find;
- a direct question from the CEO, asking for time before the board meeting and naming its day
  (a working day at least three days on, as in the calendar), a draft the user left unfinished,
  and promotions in the trash.
Every mail `scenarios` returns keeps the read state it is given: the everyday rules never touch it.
`routine` adds what recurs around the manager and the company (weekly updates, the user's 1:1
topics, all-hands announcements), which follows the everyday rules.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from orchestrator.demo.agenda import ATLAS_TITLE, QBR_TITLE, board_meeting, invitation, qbr
from orchestrator.demo.bulk import list_headers
from orchestrator.demo.calendar import Meeting
from orchestrator.demo.conversation import Conversation, compose
from orchestrator.demo.mime import Mail
from orchestrator.demo.people import CEO, CLIENT, COLLEAGUES, MANAGER, USER, VENDOR, Person
from orchestrator.demo.timeline import Timeline

__all__ = ["routine", "scenarios"]

SAM, ZOE, MARCUS, AISHA, TOM, LENA, RAJ, CHRIS = COLLEAGUES
PRODUCT_TEAM = Person("Product team", "product@pepper.demo")
ALL_STAFF = Person("Everyone at Pepper Demo Co.", "all@pepper.demo")


def _long(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _unread(mails: list[Mail]) -> list[Mail]:
    for mail in mails:
        mail.seen = mail.folder in ("Sent", "Drafts")
    return mails


def urgent_from_manager(timeline: Timeline) -> list[Mail]:
    thread = Conversation(timeline)
    text = (
        "Dana moved the board prep up to tomorrow morning, so I need the product numbers today. "
        "Can you send me the updated Atlas adoption figures and the Q4 headcount ask by 4pm today? "
        "A rough version is fine, I'll polish the slides tonight.\n\nSorry for the short notice."
    )
    thread.start(
        MANAGER,
        [USER],
        "URGENT: Atlas numbers for the board deck, needed today",
        text,
        timeline.earlier_today(0.85),
    )
    return _unread(thread.mails)


def deadline_tomorrow(timeline: Timeline) -> list[Mail]:
    tomorrow = timeline.day(1)
    thread = Conversation(timeline)
    text = (
        f"Friendly reminder that the Product tab of the Q4 budget is due by tomorrow 5pm. "
        f"That's {_long(tomorrow)}, when finance locks the numbers for the board.\n\n"
        "Could you fill in the headcount and tooling lines? The template is here: "
        "https://docs.pepper.demo/s/q4-budget-product\n\nAnything missing by then rolls over from Q3."
    )
    subject = f"Q4 budget template due tomorrow 5pm ({tomorrow:%a} {tomorrow.day} {tomorrow:%b})"
    thread.start(TOM, [USER], subject, text, timeline.earlier_today(0.45), cc=[MANAGER])
    return _unread(thread.mails)


def awaiting_vendor(timeline: Timeline) -> list[Mail]:
    thread = Conversation(timeline)
    quote_day = timeline.working_day(9)
    text = (
        "As promised, attached is the renewal quote for BrightStack Enterprise: 60 seats, 12 months, "
        "with the 12% multi-year discount. The current contract ends on 31 December.\n\n"
        "Happy to walk through it on a call."
    )
    thread.start(
        VENDOR, [USER], "BrightStack renewal quote", text, timeline.local(quote_day, 14, 10), cc=[TOM]
    )
    asked_day = timeline.working_day(6)
    question = (
        "Thanks for the quote. Before we sign, could you confirm whether the SSO add-on is included in "
        "the Enterprise price, or billed separately? And is the 12% discount still valid if we sign in "
        "January rather than December?"
    )
    thread.reply(USER, question, timeline.local(asked_day, 9, 40) - thread.mails[-1].date)
    return thread.mails


def answered_question(timeline: Timeline) -> list[Mail]:
    thread = Conversation(timeline)
    asked = timeline.local(timeline.working_day(5), 10, 15)
    text = "Could you pull October's churn by plan for the Northwind renewal prep? End of the week is fine."
    thread.start(USER, [MARCUS], "October churn by plan?", text, asked)
    answer = (
        "Here you go (October, logo churn by plan):\n\n  Starter      4.1%\n  Team         2.3%\n"
        "  Enterprise   0.6%\n\nEnterprise is the lowest we've had all year. Dashboard: "
        "https://dash.pepper.demo/churn/2026-10"
    )
    thread.reply(MARCUS, answer, timedelta(hours=26, minutes=17))
    thread.reply(USER, "Perfect, exactly what I needed for the renewal deck.", timedelta(hours=1, minutes=3))
    return thread.mails


def _invitation_mail(timeline: Timeline, meeting: Meeting, sent: datetime) -> Mail:
    """An organizer's invitation as calendar services send it: a summary, the REQUEST, the file."""
    assert meeting.organizer is not None and isinstance(meeting.start, datetime)
    when = f"{_long(meeting.start.date())} {meeting.start.year} {meeting.start:%H:%M} – {meeting.end:%H:%M}"
    people = [person for person, _ in meeting.attendees if person != meeting.organizer]
    body = (
        f"{meeting.organizer.name} has invited you to: {meeting.title}\n\n"
        f"When: {when} (London)\nWhere: {meeting.location or 'online'}\n"
        f"Who: {meeting.organizer.name} (organizer), {', '.join(p.name for p in people)}\n\n"
        f"{meeting.description}\n\nGoing? Yes - Maybe - No\n"
    )
    return Mail(
        sender=meeting.organizer,
        to=people,
        subject=f"Invitation: {meeting.title} @ {when.replace('–', '-')}",
        date=sent,
        body=body,
        message_id=timeline.message_id(meeting.organizer.domain),
        invite=invitation(timeline, meeting),
    )


def board_invitation(timeline: Timeline) -> list[Mail]:
    return [
        _invitation_mail(timeline, board_meeting(timeline), timeline.local(timeline.working_day(3), 17, 5))
    ]


def client_invitation(timeline: Timeline) -> list[Mail]:
    invite = _invitation_mail(timeline, qbr(timeline), timeline.at(2, 16, 20))
    agenda = Conversation(timeline)
    text = (
        "Looking forward to tomorrow's review. On our side: adoption in the EU teams, the two open "
        "support tickets about SSO, and the renewal timeline. Could you bring the Q1 roadmap, "
        "especially anything on audit logs?"
    )
    agenda.start(CLIENT, [USER], f"Agenda for tomorrow's {QBR_TITLE}", text, timeline.at(0, 8, 12), cc=[LENA])
    draft = Mail(
        sender=USER,
        to=[CLIENT],
        cc=[LENA],
        subject=f"Re: Agenda for tomorrow's {QBR_TITLE}",
        date=timeline.earlier_today(0.95),
        body=compose(USER, [CLIENT], "Thanks Priya, that works. I'll bring the Q1 roadmap and"),
        message_id=timeline.message_id(USER.domain),
        in_reply_to=agenda.mails[0].message_id,
        references=[agenda.mails[0].message_id],
        folder="Drafts",
    )
    return _unread([invite, *agenda.mails]) + [draft]


def launch_pre_read(timeline: Timeline) -> list[Mail]:
    thread = Conversation(timeline)
    text = (
        f"Ahead of today's {ATLAS_TITLE}, here is the launch checklist: "
        "https://docs.pepper.demo/d/atlas-launch-checklist\n\n"
        "- Ramp: 10% of workspaces on day one, 50% after 48 hours if error rates hold\n"
        "- Open risk: SSO edge case for Northwind (fix in review)\n"
        "- Comms: blog post and in-app banner are ready, support FAQ is in draft\n\n"
        "The one decision we need from the review: ramp on Monday or wait a week."
    )
    start = timeline.local(timeline.working_day(1), 17, 45)
    thread.start(
        SAM, [USER, ZOE, MANAGER], f"{ATLAS_TITLE}: pre-read and launch checklist", text, start, cc=[AISHA]
    )
    thread.reply(
        ZOE,
        "Design side is done. Banner copy is final, screenshots are in the launch folder.",
        timedelta(hours=1, minutes=12),
        quote=False,
    )
    return thread.mails


def ceo_question(timeline: Timeline) -> list[Mail]:
    """Asks for time before the board meeting, naming the day the calendar holds, whatever today is."""
    board = board_meeting(timeline)
    assert isinstance(board.start, datetime)
    board_day = board.start.date()
    thread = Conversation(timeline)
    text = (
        f"Do you have ten minutes before {_long(board_day)} to walk me through the Atlas pricing "
        "proposal? I want to be able to defend the enterprise tier to the board that morning."
    )
    thread.start(
        CEO, [USER], "Atlas pricing before the board", text, timeline.local(timeline.working_day(1), 18, 30)
    )
    return _unread(thread.mails)


def manager_updates(timeline: Timeline, weeks: int) -> list[Mail]:
    mails = []
    for week in range(weeks, 0, -1):
        monday = timeline.day(-7 * week - timeline.today.weekday())
        text = (
            f"Highlights for the week of {_long(monday)}:\n\n"
            f"- Atlas: {timeline.rng.choice(['beta widened', 'QA pass complete', 'pricing agreed', 'launch date set'])}\n"
            f"- Hiring: {timeline.rng.randint(1, 4)} offers out, {timeline.rng.randint(2, 9)} onsite interviews\n"
            f"- Northwind renewal: {timeline.rng.choice(['on track', 'legal review', 'waiting on procurement'])}\n\n"
            "No action needed, just keeping everyone in the loop."
        )
        thread = Conversation(timeline)
        thread.start(
            MANAGER,
            [PRODUCT_TEAM],
            f"Product weekly update: w/c {monday.day} {monday:%b}",
            text,
            timeline.local(monday, 8, 50),
        )
        mails.extend(thread.mails)
    return mails


TOPICS = [
    "Atlas launch readiness",
    "Hiring plan for Q1",
    "Northwind renewal risk",
    "My development goals",
    "Feedback from the pricing workshop",
    "Team offsite planning",
    "Roadmap trade-offs for Q1",
]


def one_on_one_topics(timeline: Timeline, weeks: int) -> list[Mail]:
    """The user's notes to the manager the working day before each weekly 1:1 (none ask anything)."""
    weekday = timeline.today.weekday() if timeline.today.weekday() < 5 else 0
    mails = []
    for week in range(weeks - 1, -1, -1):
        meeting = timeline.day(-7 * week + weekday - timeline.today.weekday())
        before = meeting - timedelta(days=3 if meeting.weekday() == 0 else 1)
        if timeline.local(before, 17, 40) >= timeline.now:
            continue
        topics = "\n".join(f"- {topic}" for topic in timeline.rng.sample(TOPICS, 3))
        text = f"Topics for our 1:1 tomorrow:\n\n{topics}\n\nNothing urgent from my side, happy to reorder."
        thread = Conversation(timeline)
        thread.start(
            USER, [MANAGER], f"1:1 topics for {_long(meeting)}", text, timeline.local(before, 17, 40)
        )
        if timeline.rng.random() < 0.5:
            extra = timeline.rng.choice(TOPICS)
            thread.reply(
                MANAGER, f"Thanks. Let's also cover {extra.lower()}.", timedelta(hours=14, minutes=25)
            )
        mails.extend(thread.mails)
    return mails


def announcements(timeline: Timeline, weeks: int) -> list[Mail]:
    mails = []
    for month_back in range(max(weeks // 4, 1), 0, -1):
        day = timeline.working_day(month_back * 28 - 2)
        body = compose(
            CEO,
            [ALL_STAFF],
            f"Our monthly all-hands is on {_long(day + timedelta(days=2))} at 16:00 in the atrium and on the "
            "usual stream. Agenda: company update, Atlas demo, Q&A. Questions in advance: "
            "https://ask.pepper.demo/all-hands",
            greeting=False,
        )
        mails.append(
            Mail(
                sender=CEO,
                to=[ALL_STAFF],
                subject="All-hands this week",
                date=timeline.local(day, 9, 2),
                body=body,
                message_id=timeline.message_id(CEO.domain),
                headers={"List-Id": "Everyone <all.pepper.demo>", "Precedence": "list"},
            )
        )
    return mails


def trashed_promotions(timeline: Timeline) -> list[Mail]:
    sender = Person("ProductCon 2027", "tickets@productcon.example")
    mails = []
    for days_ago, offer in (
        (17, "Last chance: 40% off ProductCon passes"),
        (4, "Early-bird pricing ends Friday"),
    ):
        mails.append(
            Mail(
                sender=sender,
                to=[USER],
                subject=offer,
                date=timeline.at(days_ago, 11, 30),
                body=f"{offer}.\n\nTwo days of talks from product leaders. Book: https://productcon.example/tickets\n",
                message_id=timeline.message_id(sender.domain),
                folder="Trash",
                headers=list_headers(sender, "promo.productcon.example", "ProductCon"),
            )
        )
    return mails


def routine(timeline: Timeline, weeks: int) -> list[Mail]:
    """Recurring mail around the manager and the company; read state is left to the everyday rules."""
    return (
        manager_updates(timeline, weeks) + one_on_one_topics(timeline, weeks) + announcements(timeline, weeks)
    )


def scenarios(timeline: Timeline, weeks: int) -> list[Mail]:
    """Every planted scenario, each keeping the read state it was given."""
    builders = [
        awaiting_vendor,
        answered_question,
        launch_pre_read,
        ceo_question,
        board_invitation,
        client_invitation,
        deadline_tomorrow,
        urgent_from_manager,
    ]
    mails = trashed_promotions(timeline)
    for build in builders:
        mails.extend(build(timeline))
    return mails
