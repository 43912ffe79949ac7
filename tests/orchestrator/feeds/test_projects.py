"""The project rule finds what the user's own mail keeps coming back to, and nothing generic; the
signature of sent mail gives the user's name and role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.feeds.projects import (
    SentThread,
    candidates,
    identity_from_signature,
    learn_projects,
    mentions,
    subject_topic,
)

DAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def thread(subject: str, days_ago: int = 1, people: tuple[str, ...] = ("sam@x.org",)) -> SentThread:
    return SentThread(subject=subject, people=list(people), last_sent=DAY - timedelta(days=days_ago))


def test_subject_topic_strips_reply_and_forward_prefixes() -> None:
    assert subject_topic("Re: Fwd: RE[2]: Beacon: notes") == "Beacon: notes"
    assert subject_topic("Plain subject") == "Plain subject"


def test_candidates_are_labels_and_capitalised_runs_never_generic_words() -> None:
    assert candidates("Beacon: notes from today's sync") == {"Beacon"}
    assert candidates("Metrics for the Atlas update") == {"Atlas"}
    assert candidates("pricing page: notes") == {"pricing page"}
    assert candidates("Lunch Tuesday?") == set()
    assert candidates("Interview feedback: Senior Product Designer") == set()


def test_learn_projects_needs_two_threads_and_keeps_people_and_last_seen() -> None:
    threads = [
        thread("Beacon: notes from today's sync", 3, ("sam@x.org",)),
        thread("Metrics for the Beacon update", 1, ("ann@x.org", "sam@x.org")),
        thread("Metrics for the Atlas update", 2),
        thread("Lunch Monday?", 4),
        thread("Lunch Friday?", 5),
    ]
    [beacon] = learn_projects(threads)
    assert beacon.name == "Beacon" and beacon.threads == 2
    assert beacon.people[0] == "sam@x.org" and set(beacon.people) == {"sam@x.org", "ann@x.org"}
    assert beacon.last_seen == DAY - timedelta(days=1)


def test_learn_projects_counts_a_label_wherever_the_subjects_name_it() -> None:
    threads = [
        thread("pricing page: notes"),
        thread("pricing page timeline"),
        thread("Metrics for the pricing page update"),
    ]
    assert [(p.name, p.threads) for p in learn_projects(threads)] == [("pricing page", 3)]


def test_learn_projects_keeps_the_longer_name_of_the_same_threads() -> None:
    threads = [thread("SSO login: customer feedback"), thread("Heads-up: SSO login incident")]
    assert [p.name for p in learn_projects(threads)] == ["SSO login"]


def test_mentions_matches_whole_words_ignoring_case() -> None:
    assert mentions("Re: the beacon launch", "Beacon")
    assert not mentions("Beaconsfield office", "Beacon")


def test_identity_from_signature_reads_name_and_role_under_it() -> None:
    assert identity_from_signature("Alex Morgan\nHead of Product", "Alex Morgan") == (
        "Alex Morgan",
        "Head of Product",
    )
    assert identity_from_signature("Priya Raman\nDirector of Operations | Northwind", "") == (
        "Priya Raman",
        "Director of Operations",
    )
    assert identity_from_signature("Sent from my iPhone", "Jordan Blake") == ("Jordan Blake", None)
    assert identity_from_signature("Alex\n+44 20 7946 0321", "Alex") == ("Alex", None)
