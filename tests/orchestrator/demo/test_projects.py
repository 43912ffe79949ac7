"""On the demo mailbox, the profile learns the user's name, role and real projects from their sent
mail, and rules triage raises mail about an active project, saying so."""

from __future__ import annotations

from orchestrator.demo.people import USER
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_rules import triage_email

from .conftest import NOW, Stored
from .test_mailbox import feed_view, profile


def learned(mailbox: list[Stored]) -> UserProfile:
    return profile(sorted(mailbox, key=lambda stored: stored.message.date))


def test_demo_profile_learns_the_users_name_and_role_from_their_signature(mailbox: list[Stored]) -> None:
    user = learned(mailbox)
    assert (user.display_name, user.display_role) == (USER.name, "Head of Product")


def test_demo_profile_learns_the_projects_the_user_writes_about(mailbox: list[Stored]) -> None:
    names = {project.name for project in learned(mailbox).projects()}
    assert {"Northwind", "Beacon", "pricing page", "SSO login", "audit log"} <= names
    generic = {"Lunch", "Expense", "Interview feedback", "Heads-up", "Review", "Metrics", "October"}
    assert not names & generic
    northwind = next(p for p in learned(mailbox).projects() if p.name == "Northwind")
    assert "onboarding" in northwind.keywords and northwind.people and northwind.threads >= 2


def test_demo_mail_about_an_active_project_says_so_and_never_drops(mailbox: list[Stored]) -> None:
    user = learned(mailbox)
    about = [
        feed_view(s)
        for s in mailbox
        if s.folder == "" and "Northwind" in s.message.subject and not s.message.list_headers.list_id
    ]
    assert about, "the demo has inbox mail about Northwind"
    plain = UserProfile(
        addresses=user.addresses, vips=user.vips, sent_to=user.sent_to, replied_to=user.replied_to
    )
    raised = [(triage_email(e, user, NOW), triage_email(e, plain, NOW)) for e in about]
    assert any("about the active project Northwind" in verdict.reasons for verdict, _ in raised)
    order = ["low", "normal", "high", "urgent"]
    assert all(order.index(a.priority) >= order.index(b.priority) for a, b in raised)


def test_demo_projects_go_quiet_after_thirty_days(mailbox: list[Stored]) -> None:
    from datetime import timedelta

    user = learned(mailbox)
    email = Email.model_validate(
        {
            "id": "x",
            "from": {"email": "zed@else.example"},
            "to": [{"email": "alex@pepper.demo"}],
            "date": NOW,
            "subject": "Beacon question",
        }
    )
    assert user.project_about(email, NOW) is not None
    assert user.project_about(email, NOW + timedelta(days=60)) is None
