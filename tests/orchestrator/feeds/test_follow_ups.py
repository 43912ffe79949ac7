"""Follow-ups start from sent mail that asks something and end with the recipient's reply."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.feeds.follow_ups import answered_follow_up, follow_up_for, working_days_after
from orchestrator.feeds.mail import Email, UserProfile

ME = "me@example.org"
PROFILE = UserProfile(addresses={ME})
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def sent(**fields) -> Email:
    base = {
        "id": "s1",
        "thread_id": "t1",
        "message_id": "<s1@example.org>",
        "from": {"email": ME},
        "to": [{"email": "Sam@Example.org", "name": "Sam"}],
        "date": FRIDAY,
        "subject": "Budget",
        "text": "Here is the draft. Could you confirm the totals? Thanks.",
    }
    return Email.model_validate(base | fields)


def reply(**fields) -> Email:
    base = {
        "id": "r1",
        "thread_id": "t9",
        "from": {"email": "sam@example.org"},
        "to": [{"email": ME}],
        "date": datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        "in_reply_to": "<s1@example.org>",
        "text": "Confirmed.",
    }
    return Email.model_validate(base | fields)


def test_follow_up_starts_for_sent_mail_that_asks_a_question() -> None:
    follow_up = follow_up_for(sent(), PROFILE)
    assert follow_up is not None
    assert follow_up.recipients == ["sam@example.org"]
    assert follow_up.asked == ["Could you confirm the totals?"]
    assert follow_up.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # Friday + 3 working days


def test_follow_up_is_not_started_by_mail_that_asks_nothing() -> None:
    assert follow_up_for(sent(text="FYI, the draft is attached."), PROFILE) is None


def test_follow_up_is_answered_by_a_reply_from_a_recipient() -> None:
    follow_up = follow_up_for(sent(), PROFILE)
    assert answered_follow_up(reply(), [follow_up]) == follow_up
    assert answered_follow_up(reply(in_reply_to=None, thread_id="t1"), [follow_up]) == follow_up


def test_follow_up_is_not_answered_by_someone_else_or_another_thread() -> None:
    follow_up = follow_up_for(sent(), PROFILE)
    assert answered_follow_up(reply(**{"from": {"email": "eve@example.org"}}), [follow_up]) is None
    assert answered_follow_up(reply(in_reply_to="<other@x>"), [follow_up]) is None


def test_working_days_after_skips_weekends() -> None:
    assert working_days_after(FRIDAY, 1).weekday() == 0
    assert working_days_after(datetime(2026, 11, 24, tzinfo=UTC), 3) == datetime(2026, 11, 27, tzinfo=UTC)


def test_profile_describe_names_the_user_vips_and_frequent_correspondents() -> None:
    profile = UserProfile(addresses={ME}, vips={"boss@example.org"}, sent_to={"a@x.org": 1, "b@x.org": 5})
    assert profile.describe().splitlines() == [
        "The user's addresses: me@example.org.",
        "VIPs (always important): boss@example.org.",
        "People the user writes to most: b@x.org, a@x.org.",
    ]
