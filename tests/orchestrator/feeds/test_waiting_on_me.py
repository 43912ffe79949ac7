"""The "waiting on the user" detector on mail headers: which thread waits, since when, and what
does not count (the user's own later reply, drafts, spam, mail only to others, old asks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.feeds.waiting_on_me import how_long, waiting_on_user

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
USER = "alex@example.com"


def head(
    message_id: str, thread: str, sender: str, to: str, hours_ago: float, labels=("INBOX",), cc=()
) -> dict:
    return {
        "id": message_id, "thread_id": thread, "from": {"name": sender.split("@")[0].title(), "email": sender},
        "to": [{"email": to}], "cc": [{"email": a} for a in cc], "subject": f"about {thread}",
        "date": (NOW - timedelta(hours=hours_ago)).isoformat(), "labels": list(labels),
    }  # fmt: skip


def test_the_first_unanswered_ask_after_the_users_last_reply_starts_the_wait() -> None:
    messages = [
        head("1", "t", "dana@x.com", USER, 50),
        head("2", "t", USER, "dana@x.com", 40, labels=("SENT",)),
        head("3", "t", "dana@x.com", USER, 30),
        head("4", "t", "dana@x.com", USER, 20),
    ]
    asks = {"1": ["Could you?"], "3": [], "4": ["And this?"]}
    [waiting] = waiting_on_user(messages, asks, [USER], NOW)
    assert (waiting.email_id, waiting.since, waiting.unanswered) == ("4", NOW - timedelta(hours=20), 2)
    assert waiting.sender == "Dana" and waiting.asked == ("And this?",)


def test_drafts_spam_old_asks_and_mail_not_to_the_user_do_not_wait() -> None:
    messages = [
        head("1", "a", "dana@x.com", USER, 5, labels=("SPAM",)),
        head("2", "b", "tom@x.com", "someone@x.com", 5),
        head("3", "c", "sam@x.com", USER, 24 * 40),
        head("4", "d", "lee@x.com", "someone@x.com", 3, cc=(USER.upper(),)),
        head("5", "d", USER, "lee@x.com", 1, labels=("DRAFT",)),
    ]
    asks = {str(n): ["?"] for n in range(1, 6)}
    assert [w.email_id for w in waiting_on_user(messages, asks, [USER], NOW)] == ["4"]


def test_threads_are_ordered_oldest_wait_first() -> None:
    messages = [
        head("1", "a", "a@x.com", USER, 2),
        head("2", "b", "b@x.com", USER, 9),
        head("3", "", "c@x.com", USER, 4),
    ]
    asks = {"1": ["?"], "2": ["?"], "3": ["?"]}
    assert [w.email_id for w in waiting_on_user(messages, asks, [USER], NOW)] == ["2", "3", "1"]


def test_how_long_says_the_largest_whole_unit() -> None:
    assert [how_long(timedelta(minutes=m)) for m in (0, 1, 59, 60, 119, 1440, 4000)] == [
        "0 minutes", "1 minute", "59 minutes", "1 hour", "1 hour", "1 day", "2 days",
    ]  # fmt: skip
