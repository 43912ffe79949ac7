"""The rules triage engine judges mail the way a careful assistant would, and says why."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_rules import find_deadlines, triage_email

SENT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
ME = "me@example.org"


def email(**fields) -> Email:
    base = {
        "id": "m1",
        "from": {"name": "Dana Lee", "email": "dana@example.org"},
        "to": [{"email": ME}],
        "date": SENT,
        "subject": "Quarterly numbers",
        "text": "Here are the numbers.",
    }
    return Email.model_validate(base | fields)


def profile(**fields) -> UserProfile:
    return UserProfile(addresses={ME}, **fields)


def correspondent() -> UserProfile:
    """The user wrote to Dana once (a correspondent, not yet a frequent one)."""
    return profile(sent_to={"dana@example.org": 1})


def test_triage_marks_newsletters_as_low_priority_bulk() -> None:
    verdict = triage_email(
        email(list_headers={"list_unsubscribe": "<mailto:u@x>"}, text="Can you read this?"), profile()
    )
    assert (verdict.priority, verdict.category) == ("low", "bulk")
    assert verdict.reasons == ["bulk, automated or mailing-list mail"]


def test_triage_treats_noreply_senders_as_bulk() -> None:
    verdict = triage_email(email(**{"from": {"email": "no-reply@shop.example"}}), profile())
    assert verdict.category == "bulk"


def test_triage_direct_request_with_near_deadline_is_urgent_action() -> None:
    text = "Hi, could you send me the signed contract by tomorrow at 5pm? Thanks."
    verdict = triage_email(email(text=text), correspondent())
    assert (verdict.priority, verdict.category) == ("urgent", "action")
    assert verdict.action_items == ["Hi, could you send me the signed contract by tomorrow at 5pm?"]
    assert [(d.phrase, d.due) for d in verdict.deadlines] == [
        ("by tomorrow at 5pm", datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    ]
    assert "asks the user directly" in verdict.reasons


def test_triage_ranks_frequent_correspondents_above_strangers() -> None:
    known = profile(sent_to={"dana@example.org": 6}, replied_to={"dana@example.org": 2})
    assert triage_email(email(), known).priority == "high"
    assert triage_email(email(), known).category == "personal"
    assert triage_email(email(), profile()).priority == "normal"


def test_triage_vip_is_high_even_without_a_request() -> None:
    verdict = triage_email(email(), profile(vips={"dana@example.org"}))
    assert verdict.priority == "high"
    assert "sender is a VIP" in verdict.reasons


def test_triage_lowers_mail_where_user_is_only_in_cc() -> None:
    verdict = triage_email(
        email(to=[{"email": "team@example.org"}], cc=[{"email": ME}], text="Can you check?"), profile()
    )
    assert verdict.priority == "low"
    assert verdict.action_items == []
    assert "the user is only in Cc" in verdict.reasons


def test_triage_urgent_subject_raises_priority() -> None:
    assert triage_email(email(subject="URGENT: server down"), correspondent()).priority == "high"


def test_find_deadlines_reads_dates_after_cues_relative_to_the_message() -> None:
    found = find_deadlines("Report due Friday. Invoices must be paid no later than 3 December, thanks.", SENT)
    assert [(d.phrase, d.due.date().isoformat()) for d in found] == [
        ("due Friday", "2026-11-27"),
        ("no later than 3 December", "2026-12-03"),
    ]


def test_find_deadlines_ignores_cues_without_a_date() -> None:
    assert find_deadlines("Stand by me. Before we start, a note about the plan.", SENT) == []


def test_summary_is_one_line_with_sender_subject_and_first_sentence() -> None:
    verdict = triage_email(email(text="The numbers are in.\nMore below."), profile())
    assert verdict.summary == "Dana Lee: Quarterly numbers — The numbers are in."


def test_triage_treats_receipts_and_billing_senders_as_bulk() -> None:
    receipt = email(
        **{"from": {"name": "Paperly", "email": "orders@paperly.example"}}, text="Thanks! Questions?"
    )
    assert triage_email(receipt, profile()).category == "bulk"


def test_triage_ignores_one_word_boilerplate_questions() -> None:
    assert triage_email(email(text="Your statement is ready. Questions?"), profile()).action_items == []


def test_triage_caps_mail_older_than_a_week_and_lowers_read_mail() -> None:
    ask = "Could you send me the signed contract by tomorrow at 5pm?"
    weeks_later = datetime(2026, 12, 9, tzinfo=UTC)
    old = triage_email(email(text=ask, labels=["INBOX", "UNREAD"]), profile(), now=weeks_later)
    assert old.priority == "normal" and "more than a week old" in old.reasons
    assert "its deadline has passed" in old.reasons
    read = triage_email(email(text=ask, labels=["INBOX"]), correspondent())
    assert read.priority == "high" and "already read" in read.reasons


def test_summary_skips_the_greeting() -> None:
    verdict = triage_email(email(text="Hi Alex,\n\nThe numbers are in. More below."), profile())
    assert verdict.summary == "Dana Lee: Quarterly numbers — The numbers are in."


def test_triage_raises_mail_about_an_active_project_to_high_and_says_why() -> None:
    from orchestrator.feeds.projects import Project

    working = profile(learned_projects=[Project(name="Beacon", last_seen=SENT, threads=3)])
    verdict = triage_email(email(subject="Beacon launch date"), working, SENT)
    assert verdict.priority == "high"
    assert "about the active project Beacon" in verdict.reasons
    assert triage_email(email(subject="Beacon launch date"), profile(), SENT).priority == "normal"


def test_triage_ignores_projects_the_user_has_not_written_about_for_a_month() -> None:
    from datetime import timedelta

    from orchestrator.feeds.projects import Project

    stale = profile(learned_projects=[Project(name="Beacon", last_seen=SENT - timedelta(days=45), threads=3)])
    assert triage_email(email(subject="Beacon launch date"), stale, SENT).priority == "normal"
