"""The demo's meetings: recurring series with history, today's and tomorrow's meetings, personal events.

Series start weeks before `now`: a daily stand-up on weekdays (one day cancelled with EXDATE, one moved
with a RECURRENCE-ID override), a weekly 1:1 with the manager on today's weekday, and planning every
other Thursday. One-off meetings land today, in the next hour or two, and tomorrow: tomorrow's client
review is the meeting the mailbox holds an invitation for (same UID), and today's launch review has a
pre-read thread in the mailbox, so a meeting brief finds related mail. All-day events mark an absence
and a finance deadline; `personal.ics` holds a birthday, a dentist and a running club.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from orchestrator.demo.calendar import Meeting, calendar_bytes
from orchestrator.demo.people import CEO, CLIENT, COLLEAGUES, MANAGER, USER, VENDOR, Person
from orchestrator.demo.timeline import Timeline

__all__ = [
    "ATLAS_TITLE",
    "BOARD_TITLE",
    "QBR_TITLE",
    "RENEWAL_TITLE",
    "board_meeting",
    "calendars",
    "invitation",
    "qbr",
]

ATLAS_TITLE = "Atlas launch review"
QBR_TITLE = "Northwind quarterly business review"
RENEWAL_TITLE = "BrightStack renewal call"
BOARD_TITLE = "Board meeting (product update)"
SAM, ZOE, MARCUS, AISHA, TOM, LENA, RAJ, CHRIS = COLLEAGUES


def _link(timeline: Timeline, kind: str) -> str:
    number = timeline.rng.randrange(10**10, 10**11)
    if kind == "zoom":
        return f"https://zoom.us/j/{number}"
    letters = "".join(timeline.rng.choice("abcdefghijkmnopqrstuvwxyz") for _ in range(10))
    return f"https://meet.google.com/{letters[:3]}-{letters[3:7]}-{letters[7:]}"


def _team(status: str = "ACCEPTED") -> list[tuple[Person, str]]:
    return [(person, status) for person in (SAM, ZOE, RAJ, MARCUS)]


def _series_start(timeline: Timeline, weekday: int, weeks_back: int) -> date:
    day = timeline.day(-7 * weeks_back)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def qbr(timeline: Timeline) -> Meeting:
    """Tomorrow's client meeting; the mailbox holds its invitation."""
    tomorrow = timeline.day(1)
    return Meeting(
        uid=f"qbr-{tomorrow:%Y%m%d}@northwind.example",
        title=QBR_TITLE,
        start=timeline.local(tomorrow, 10),
        end=timeline.local(tomorrow, 11),
        organizer=CLIENT,
        attendees=[(CLIENT, "ACCEPTED"), (USER, "NEEDS-ACTION"), (LENA, "ACCEPTED")],
        description="Quarterly review of the Northwind account: adoption, open support issues, "
        "and the renewal timeline. Please bring the product roadmap for Q1.",
        conference="https://teams.microsoft.com/l/meetup-join/19%3ademo-northwind-qbr",
        location="Northwind Traders, 120 Shoreditch High St, London",
    )


def board_meeting(timeline: Timeline) -> Meeting:
    """On the first working day at least three days on; the mailbox holds the CEO's invitation, read
    but not answered, and the CEO's question about it."""
    day = timeline.working_day_ahead(3)
    return Meeting(
        uid="board-meeting@pepper.demo",
        title=BOARD_TITLE,
        start=timeline.local(day, 9),
        end=timeline.local(day, 12),
        organizer=CEO,
        attendees=[(CEO, "ACCEPTED"), (MANAGER, "ACCEPTED"), (USER, "NEEDS-ACTION")],
        location="Boardroom, 5th floor",
        description="Quarterly board meeting. Product update at 10:30: Atlas launch and Q1 roadmap.",
    )


def invitation(timeline: Timeline, meeting: Meeting) -> bytes:
    """The iCalendar REQUEST an organizer's invitation mail carries for `meeting`."""
    return calendar_bytes("Invitation", [meeting], timeline.now, method="REQUEST")


def _standup(timeline: Timeline) -> list[Meeting]:
    """Weekdays at 09:30, one day cancelled (EXDATE), one day moved (an override)."""
    first = _series_start(timeline, 0, 8)
    cancelled, moved = timeline.working_day(9), timeline.working_day(4)
    zone = timeline.local
    return [
        Meeting(
            uid="standup@pepper.demo",
            title="Daily stand-up",
            start=zone(first, 9, 30),
            end=zone(first, 9, 45),
            organizer=SAM,
            attendees=[(USER, "ACCEPTED"), *_team()],
            rrule={"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR"]},
            exdates=[zone(cancelled, 9, 30)],
            location="Room 3.1 (Hopper)",
            conference=_link(timeline, "meet"),
            description="Yesterday, today, blockers. 15 minutes.",
        ),
        Meeting(
            uid="standup@pepper.demo",
            title="Daily stand-up (moved for the all-hands)",
            start=zone(moved, 10, 15),
            end=zone(moved, 10, 30),
            organizer=SAM,
            attendees=[(USER, "ACCEPTED"), *_team()],
            recurrence_id=zone(moved, 9, 30),
            location="Room 3.1 (Hopper)",
        ),
    ]


def _one_on_one(timeline: Timeline) -> Meeting:
    """Weekly with the manager, on today's weekday (Monday at weekends)."""
    weekday = timeline.today.weekday() if timeline.today.weekday() < 5 else 0
    first = _series_start(timeline, weekday, 10)
    return Meeting(
        uid="one-on-one-alex-jordan@pepper.demo",
        title="Alex / Jordan 1:1",
        start=timeline.local(first, 11, 30),
        end=timeline.local(first, 12),
        organizer=MANAGER,
        attendees=[(MANAGER, "ACCEPTED"), (USER, "ACCEPTED")],
        rrule={"freq": "weekly"},
        conference=_link(timeline, "zoom"),
        description="Running agenda: https://docs.pepper.demo/d/alex-jordan-1-1",
    )


def _planning(timeline: Timeline) -> Meeting:
    """Every other Thursday afternoon, organised by the user; not everyone has said yes."""
    first = _series_start(timeline, 3, 9)
    return Meeting(
        uid="product-planning@pepper.demo",
        title="Product planning",
        start=timeline.local(first, 14),
        end=timeline.local(first, 15),
        organizer=USER,
        attendees=[
            (USER, "ACCEPTED"),
            (MANAGER, "ACCEPTED"),
            (SAM, "ACCEPTED"),
            (ZOE, "ACCEPTED"),
            (AISHA, "TENTATIVE"),
            (MARCUS, "DECLINED"),
        ],
        rrule={"freq": "weekly", "interval": 2, "byday": ["TH"]},
        location="Room 4.2 (Orchard)",
        description="Every other Thursday: what we ship next and why. Board: https://trackly.example/pepper-demo/atlas",
    )


# Wall-clock spans the day's fixed meetings take (stand-up, 1:1, launch review, planning).
_FIXED = [((9, 30), (9, 45)), ((11, 30), (12, 0)), ((14, 0), (15, 0)), ((15, 30), (16, 15))]


def _free_slot_soon(timeline: Timeline) -> datetime:
    """A 30-minute slot starting 45 minutes to 2 hours from now, clear of the fixed meetings and in
    working hours; tomorrow at 16:30 when there is none (late at night, say)."""
    first = (timeline.now + timedelta(minutes=45)).replace(second=0)
    first += timedelta(minutes=-first.minute % 15)
    for step in range(6):
        start = first + timedelta(minutes=15 * step)
        end = start + timedelta(minutes=30)
        clear = all(
            end <= timeline.local(start.date(), *begin) or start >= timeline.local(start.date(), *finish)
            for begin, finish in _FIXED
        )
        if clear and 8 <= start.hour and end <= timeline.local(start.date(), 18, 30):
            return start
    return timeline.local(timeline.day(1), 16, 30)


def _launch_review(timeline: Timeline) -> Meeting:
    """This afternoon; the mailbox holds its pre-read thread, from attendees, with the same title."""
    today, local = timeline.today, timeline.local
    return Meeting(
        uid=f"atlas-review-{today:%Y%m%d}@pepper.demo",
        title=ATLAS_TITLE,
        start=local(today, 15, 30),
        end=local(today, 16, 15),
        organizer=SAM,
        attendees=[
            (SAM, "ACCEPTED"),
            (USER, "ACCEPTED"),
            (ZOE, "ACCEPTED"),
            (MANAGER, "TENTATIVE"),
            (AISHA, "NEEDS-ACTION"),
        ],
        description="Go/no-go for the Atlas launch. Pre-read: the launch checklist Sam sent "
        "(https://docs.pepper.demo/d/atlas-launch-checklist). Decide on the ramp plan and comms.",
        location="Room 4.2 (Orchard)",
        conference=_link(timeline, "meet"),
    )


def _renewal_call(timeline: Timeline) -> Meeting:
    """Soon: about the vendor question still awaiting an answer in the mailbox."""
    soon = _free_slot_soon(timeline)
    return Meeting(
        uid=f"brightstack-renewal-{soon:%Y%m%d}@brightstack.example",
        title=RENEWAL_TITLE,
        start=soon,
        end=soon + timedelta(minutes=30),
        organizer=VENDOR,
        attendees=[(VENDOR, "ACCEPTED"), (USER, "ACCEPTED"), (TOM, "NEEDS-ACTION")],
        description="Renewal of the BrightStack analytics contract: pricing, SSO add-on, term.",
        conference=_link(timeline, "zoom"),
    )


def _budget_lock(timeline: Timeline) -> Meeting:
    """All day tomorrow, the day the request in the mailbox is due."""
    return Meeting(
        uid=f"budget-lock-{timeline.day(1):%Y%m%d}@pepper.demo",
        title="Finance: Q4 budget lock",
        start=timeline.day(1),
        end=timeline.day(2),
        organizer=TOM,
        free=True,
        description="Budget templates are locked at 17:00.",
    )


def _past(timeline: Timeline) -> list[Meeting]:
    local, day = timeline.local, timeline.working_day
    return [
        Meeting(
            uid="interview-designer@pepper.demo",
            title="Interview: Senior Product Designer",
            start=local(day(12), 15),
            end=local(day(12), 16),
            organizer=CHRIS,
            attendees=[(USER, "ACCEPTED"), (ZOE, "ACCEPTED"), (CHRIS, "ACCEPTED")],
            location="Room 2.4",
        ),
        Meeting(
            uid="lunch-priya@pepper.demo",
            title="Lunch with Priya (Northwind)",
            start=local(day(16), 12, 30),
            end=local(day(16), 13, 45),
            location="Dishoom, King's Cross",
            attendees=[(USER, "ACCEPTED"), (CLIENT, "ACCEPTED")],
            organizer=USER,
        ),
        Meeting(
            uid="pricing-workshop@pepper.demo",
            title="Pricing workshop",
            start=local(day(20), 10),
            end=local(day(20), 12),
            organizer=USER,
            location="Room 4.2 (Orchard)",
            attendees=[(USER, "ACCEPTED"), (AISHA, "ACCEPTED"), (TOM, "ACCEPTED"), (MARCUS, "ACCEPTED")],
        ),
        Meeting(
            uid="board-prep@pepper.demo",
            title="Board prep: product section",
            start=local(day(6), 16),
            end=local(day(6), 16, 45),
            organizer=CEO,
            attendees=[(CEO, "ACCEPTED"), (USER, "ACCEPTED"), (MANAGER, "ACCEPTED")],
        ),
    ]


def _later(timeline: Timeline) -> list[Meeting]:
    monday = timeline.day(7 - timeline.today.weekday())
    return [
        Meeting(
            uid="sam-ooo@pepper.demo",
            title="Sam Patel: out of office",
            start=monday,
            end=monday + timedelta(days=2),
            organizer=SAM,
            free=True,
        ),
        board_meeting(timeline),
    ]


def _personal(timeline: Timeline) -> list[Meeting]:
    birthday = timeline.day(5)
    leap_day = (birthday.month, birthday.day) == (2, 29)
    first = date(birthday.year - (4 if leap_day else 3), birthday.month, birthday.day)
    saturday = timeline.day(-28) + timedelta(days=(5 - timeline.day(-28).weekday()) % 7)
    dentist = timeline.day(4)
    return [
        Meeting(
            uid="mum-birthday@personal.pepper.demo",
            title="Mum's birthday",
            start=first,
            end=first + timedelta(days=1),
            rrule={"freq": "yearly"},
            free=True,
        ),
        Meeting(
            uid="dentist@personal.pepper.demo",
            title="Dentist",
            start=timeline.local(dentist, 8, 15),
            end=timeline.local(dentist, 8, 45),
            location="Smile Studio, 14 Pentonville Rd",
        ),
        Meeting(
            uid="running-club@personal.pepper.demo",
            title="Running club",
            start=timeline.local(saturday, 8),
            end=timeline.local(saturday, 9),
            rrule={"freq": "weekly"},
            location="Regent's Park, Hub café",
        ),
    ]


def calendars(timeline: Timeline) -> dict[str, bytes]:
    """The calendar files by name: `work.ics` and `personal.ics`."""
    stamp = timeline.now
    work = [
        *_standup(timeline),
        _one_on_one(timeline),
        _planning(timeline),
        _launch_review(timeline),
        _renewal_call(timeline),
        qbr(timeline),
        _budget_lock(timeline),
        *_past(timeline),
        *_later(timeline),
    ]
    return {
        "work.ics": calendar_bytes("Work", work, stamp),
        "personal.ics": calendar_bytes("Personal", _personal(timeline), stamp),
    }
