"""The profile's edits (name, role, VIPs, projects, notes) apply with clear errors, survive learning and
restarts, and the stored item is what a fresh `ProfileBook` loads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.projects import Project
from orchestrator.profile import ProfileBook, ProfileChange, ProfileEditError, apply_change, profile_view

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ME = "me@example.org"


def working() -> UserProfile:
    beacon = Project(name="Beacon", last_seen=NOW, threads=2, people=["sam@x.org"])
    return UserProfile(addresses={ME}, vips={"boss@x.org"}, learned_projects=[beacon])


def change(action: str, value: str, to: str | None = None) -> ProfileChange:
    return ProfileChange(action=action, value=value, to=to)


def sent(subject: str, thread: str) -> Email:
    return Email.model_validate(
        {
            "id": f"s-{thread}",
            "thread_id": thread,
            "from": {"name": "Me Myself", "email": ME},
            "to": [{"email": "sam@x.org"}],
            "date": NOW,
            "subject": subject,
            "signature": "Me Myself\nChief Tester · Example Ltd",
            "labels": ["SENT"],
        }
    )


def test_apply_change_sets_name_and_role_over_what_was_learned() -> None:
    profile = working()
    profile.name, profile.role = "Learned Name", "Learned Role"
    assert apply_change(profile, change("set_name", "  Ann   Lee ")) == "Your name is now Ann Lee."
    apply_change(profile, change("set_role", "CTO"))
    assert (profile.display_name, profile.display_role) == ("Ann Lee", "CTO")
    assert profile.name == "Learned Name"


def test_apply_change_adds_and_removes_vips_and_rejects_what_is_not_an_address() -> None:
    profile = working()
    apply_change(profile, change("add_vip", "Ann@X.org"))
    assert "ann@x.org" in profile.vips
    apply_change(profile, change("remove_vip", "boss@x.org"))
    assert "boss@x.org" not in profile.vips and "boss@x.org" in profile.edits.vips_removed
    with pytest.raises(ProfileEditError, match="not an email address"):
        apply_change(profile, change("add_vip", "Alice"))
    with pytest.raises(ProfileEditError, match="is not a VIP"):
        apply_change(profile, change("remove_vip", "nobody@x.org"))


def test_apply_change_adds_renames_and_removes_projects() -> None:
    profile = working()
    apply_change(profile, change("add_project", "Atlas"))
    assert [(p.name, p.source) for p in profile.projects()] == [("Beacon", "learned"), ("Atlas", "user")]
    assert apply_change(profile, change("rename_project", "beacon", to="Beacon 2")) == (
        "Renamed the project Beacon to Beacon 2."
    )
    renamed = profile.projects()[0]
    assert renamed.name == "Beacon 2" and renamed.aliases == ["Beacon"]
    apply_change(profile, change("remove_project", "Beacon 2"))
    assert [p.name for p in profile.projects()] == ["Atlas"]
    with pytest.raises(ProfileEditError, match="no project called 'Nope'; your projects: Atlas"):
        apply_change(profile, change("remove_project", "Nope"))
    with pytest.raises(ProfileEditError, match="already one of your projects"):
        apply_change(profile, change("add_project", "atlas"))


def test_renamed_project_still_matches_mail_that_uses_the_old_name() -> None:
    profile = working()
    apply_change(profile, change("rename_project", "Beacon", to="Lighthouse"))
    mail = Email.model_validate({"id": "m", "date": NOW, "subject": "Beacon launch", "text": ""})
    found = profile.project_about(mail, NOW)
    assert found is not None and found.name == "Lighthouse"


def test_apply_change_remembers_and_forgets_notes() -> None:
    profile = working()
    assert (
        apply_change(profile, change("remember", "Alice is my manager"))
        == "I'll remember that Alice is my manager."
    )
    assert "The user asked you to remember: Alice is my manager" in profile.describe()
    assert apply_change(profile, change("forget", "alice")) == "Forgot 1 note about alice."
    with pytest.raises(ProfileEditError, match="nothing I remember mentions"):
        apply_change(profile, change("forget", "alice"))


def test_describe_lists_projects_and_stays_bounded() -> None:
    profile = working()
    profile.edits.name = "Ann Lee"
    assert profile.describe(now=NOW).splitlines()[0] == f"The user: Ann Lee ({ME})."
    assert "Projects: Beacon (with sam@x.org; last 24 Nov)." in profile.describe(now=NOW)
    for index in range(40):
        apply_change(profile, change("add_project", f"Project number {index} " + "x" * 60))
        apply_change(profile, change("remember", f"fact {index} " + "y" * 250))
    assert len(profile.describe(now=NOW)) <= 1500


def test_profile_view_marks_active_and_hidden_projects() -> None:
    profile = working()
    apply_change(profile, change("add_project", "Atlas"))
    apply_change(profile, change("remove_project", "Beacon"))
    view = profile_view(profile, NOW)
    assert [(p["name"], p["active"], p["source"]) for p in view["projects"]] == [("Atlas", True, "user")]
    assert view["hidden_projects"] == ["Beacon"] and view["vips"] == ["boss@x.org"]


@pytest.mark.anyio
async def test_profile_book_keeps_edits_through_learning_and_a_restart(connections) -> None:
    items = ContextItems(connections["context"])
    book = ProfileBook(items, [ME], ["boss@x.org"])
    await book.learn(sent("Beacon: notes", "t1"))
    await book.learn(sent("Metrics for the Beacon update", "t2"))
    assert [p.name for p in (await book.load()).projects()] == ["Beacon"]
    await book.apply(change("remove_project", "Beacon"))
    await book.apply(change("remove_vip", "boss@x.org"))
    await book.apply(change("set_role", "Boss of testing"))
    await book.learn(sent("Re: Beacon: notes", "t1"))

    again = await ProfileBook(items, [ME], ["boss@x.org"]).load()
    assert again.projects() == [] and again.learned_projects[0].name == "Beacon"
    assert "boss@x.org" not in again.vips
    assert (again.display_name, again.display_role, again.role) == (
        "Me Myself",
        "Boss of testing",
        "Chief Tester",
    )
    with pytest.raises(ProfileEditError):
        await book.apply(change("remove_project", "Beacon"))
