"""What Pepper derives from an account's mail keeps the account: follow-ups and who waits on the user."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.feeds.follow_ups import follow_up_for
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.waiting_on_me import waiting_on_user

ME = "me@work.example"
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_a_follow_up_of_mail_sent_from_an_account_names_that_account() -> None:
    email = Email.model_validate({
        "id": "work:s1", "account": "work", "thread_id": "t1", "message_id": "<s1@example.org>",
        "from": {"email": ME}, "to": [{"email": "sam@example.org"}], "date": FRIDAY, "subject": "Budget",
        "text": "Could you confirm the totals?", "labels": ["SENT"],
    })  # fmt: skip
    follow_up = follow_up_for(email, UserProfile(addresses={ME}))
    assert follow_up is not None and (follow_up.email_id, follow_up.account) == ("work:s1", "work")


def test_an_ask_waiting_on_the_user_names_the_account_it_came_to() -> None:
    message = {
        "id": "work:m1", "account": "work", "thread_id": "t2", "from": {"email": "priya@client.example"},
        "to": [{"email": ME}], "date": FRIDAY.isoformat(), "subject": "Contract", "labels": ["INBOX"],
    }  # fmt: skip
    (waiting,) = waiting_on_user([message], {"work:m1": ["Can you confirm?"]}, [ME], FRIDAY)
    assert (waiting.email_id, waiting.account) == ("work:m1", "work")
