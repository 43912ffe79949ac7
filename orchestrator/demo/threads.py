"""Everyday work threads between the user and colleagues, drawn from parameterised templates.

Each template is a subject and a list of turns: who speaks (`them`, a colleague; `alex`, the user;
`other`, a second colleague in Cc) and what they say, with `{slots}` filled from small vocabularies
(projects, features, documents, numbers). Threads start on a random working day of the last weeks
and replies follow hours later. A template never ends on a question from the user, so the only
threads still awaiting an answer are the ones `scenarios` plants on purpose.
"""

from __future__ import annotations

from datetime import timedelta

from orchestrator.demo.conversation import Conversation
from orchestrator.demo.mime import Mail
from orchestrator.demo.people import COLLEAGUES, USER, Person
from orchestrator.demo.timeline import Timeline

__all__ = ["everyday_threads"]

PROJECTS = ["Atlas", "Beacon", "Northwind onboarding", "pricing page", "mobile app", "data warehouse"]
FEATURES = ["bulk export", "SSO login", "usage alerts", "team workspaces", "audit log", "CSV import"]
DOCS = ["launch plan", "Q1 roadmap", "pricing one-pager", "research synthesis", "PRD", "release notes"]
POINTS = [
    "beta feedback is mostly positive, the main complaint is load time on large accounts",
    "we agreed to cut the admin dashboard from the first release",
    "QA found two blockers in the permissions flow, both have owners",
    "marketing needs final screenshots a week before launch",
    "legal review of the new terms is done",
    "support wants a short FAQ before we enable it for everyone",
    "the migration script ran cleanly on staging",
    "we will ship behind a feature flag and ramp to 10% first",
    "two enterprise customers asked for an early preview",
    "the error rate on the sync job is back under 0.1%",
]
QUESTIONS = [
    "archived workspaces count towards the seat limit",
    "admins get the notification as well as the owner",
    "we keep the old export format for one more release",
    "the trial users see the new onboarding too",
    "the limit apply per workspace rather than per account",
]
TEMPLATES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "{project}: notes from today's sync",
        [
            (
                "them",
                "Quick notes from today's {project} sync:\n\n- {p1}\n- {p2}\n- {p3}\n\nShout if I missed anything.",
            ),
            ("alex", "Thanks {them}, that matches my notes. One addition: {p4}."),
        ],
    ),
    (
        "Question about the {feature} spec",
        [
            (
                "them",
                "I'm working through the {feature} spec and got stuck on one thing: should {question}? My instinct says yes but I wanted to check before I build it.",
            ),
            ("alex", "Good catch. Yes, let's do that for now; we can revisit after the {project} launch."),
            ("them", "Perfect, I'll update the ticket and the spec."),
        ],
    ),
    (
        "Review: {doc} draft",
        [
            (
                "them",
                "The first draft of the {doc} is up: https://docs.pepper.demo/{slug}\n\nCould you take a look when you have a moment? Comments in the doc are easiest.",
            ),
            (
                "alex",
                "Left a handful of comments. The structure works; I'd lead with the customer problem rather than the timeline.",
            ),
            ("them", "Makes sense, reworked the intro. Thanks for the quick turnaround!"),
        ],
    ),
    (
        "{feature}: customer feedback",
        [
            (
                "them",
                "Sharing some feedback on {feature} from this week's customer calls. {n} of the accounts we spoke to use it weekly, and the top request is better filtering. Full notes: https://docs.pepper.demo/{slug}",
            ),
            ("other", "+1 on filtering, it came up in support tickets too."),
            ("alex", "Great summary, thanks both. I'll fold filtering into the next planning session."),
        ],
    ),
    (
        "{project} timeline",
        [
            (
                "alex",
                "Hi {them}, are we still on track for the {project} milestone at the end of the month? Want to make sure the plan I share with Jordan is accurate.",
            ),
            (
                "them",
                "Mostly. The API work is done; the UI is about {percent}% there. I'd give it one extra week to be safe.",
            ),
            ("alex", "One extra week is fine. I'll update the plan and flag it in the weekly update."),
        ],
    ),
    (
        "Metrics for the {project} update",
        [
            (
                "alex",
                "Could you pull weekly active teams for {project} for the last six weeks? I'd like a chart for Thursday's update.",
            ),
            (
                "them",
                "Here you go: https://dash.pepper.demo/{slug}. We're at {n} weekly active teams, up {percent}% since launch.",
            ),
            ("alex", "Perfect, exactly what I needed."),
        ],
    ),
    (
        "Interview feedback: {role}",
        [
            (
                "them",
                "Thanks for interviewing the {role} candidate today. Could you add your scorecard by Friday? The panel debrief is on Monday.",
            ),
            ("alex", "Done, scorecard is in. Strong yes from me: great product sense, a bit light on data."),
        ],
    ),
    (
        "Lunch {weekday}?",
        [
            (
                "them",
                "The new ramen place on Fenwick Street finally opened. Lunch on {weekday}? Around 12:30?",
            ),
            ("alex", "I'm in. 12:30 works."),
            ("them", "Booked for four, {other} is coming too."),
        ],
    ),
    (
        "Heads-up: {feature} incident",
        [
            (
                "them",
                "Heads-up: {feature} was degraded for about {n} minutes this morning after a config change. It's fixed and the post-mortem is scheduled. No data loss.",
            ),
            (
                "alex",
                "Thanks for the quick fix and the heads-up. I'll mention it in the customer newsletter only if someone asks.",
            ),
        ],
    ),
    (
        "Expense report for {month}",
        [
            (
                "them",
                "Your {month} expense report is waiting for approval in the finance tool. There's one item without a receipt (taxi, £{n}); could you attach it?",
            ),
            ("alex", "Attached the receipt, should be complete now."),
            ("them", "Approved, thanks!"),
        ],
    ),
]
ROLES = ["Senior Product Designer", "Backend Engineer", "Product Analyst", "Engineering Manager"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["September", "October", "November"]


def _slots(timeline: Timeline, them: Person, other: Person) -> dict[str, str]:
    rng = timeline.rng
    points = rng.sample(POINTS, 4)
    return {
        "them": them.first,
        "other": other.first,
        "project": rng.choice(PROJECTS),
        "feature": rng.choice(FEATURES),
        "doc": rng.choice(DOCS),
        "slug": f"{rng.choice(['d', 'p', 'r'])}/{rng.randrange(16**8):08x}",
        "question": rng.choice(QUESTIONS),
        "role": rng.choice(ROLES),
        "weekday": rng.choice(WEEKDAYS),
        "month": rng.choice(MONTHS),
        "n": str(rng.randint(12, 95)),
        "percent": str(rng.randint(5, 90)),
        **{f"p{index + 1}": point for index, point in enumerate(points)},
    }


def _thread(timeline: Timeline, template: tuple[str, list[tuple[str, str]]], days_ago: int) -> list[Mail]:
    rng = timeline.rng
    them, other = rng.sample(COLLEAGUES, 2)
    slots = _slots(timeline, them, other)
    subject, turns = template
    speakers = {"them": them, "alex": USER, "other": other}
    day = timeline.working_day(days_ago)
    start = timeline.at((timeline.today - day).days, rng.randint(8, 16), rng.choice([0, 5, 12, 20, 34, 47]))
    conversation = Conversation(timeline)
    first_who, first_text = turns[0]
    sender = speakers[first_who]
    to = [USER] if sender != USER else [them]
    cc = [other] if any(who == "other" for who, _ in turns) else []
    conversation.start(sender, to, subject.format(**slots), first_text.format(**slots), start, cc)
    for who, text in turns[1:]:
        gap = timedelta(minutes=rng.randint(20, 60 * 20))
        conversation.reply(speakers[who], text.format(**slots), gap, quote=rng.random() < 0.8)
    return conversation.mails


def everyday_threads(timeline: Timeline, count: int, weeks: int) -> list[Mail]:
    """`count` threads spread over the last `weeks` weeks (none starting today)."""
    mails: list[Mail] = []
    for index in range(count):
        template = TEMPLATES[index % len(TEMPLATES)]
        mails.extend(_thread(timeline, template, timeline.rng.randint(1, weeks * 7)))
    return mails
