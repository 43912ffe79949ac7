"""Intent recognition and slot filling on a sample of phrasings (the corpus itself is the bench:
`bench/conversation.py`). Written apart from the corpus, so they also check it generalizes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrator.conversation.intents import normalize, read
from orchestrator.conversation.lang import LANGUAGES

NOW = datetime(2026, 5, 6, 11, 0, tzinfo=ZoneInfo("Europe/London"))  # a Wednesday


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("Which meetings have I got on Thursday?", "agenda_day", {"date": "2026-05-07"}),
        ("what does next week look like on my calendar", "agenda_range", {"date": "2026-05-11..2026-05-17"}),
        ("when's my next meeting with Omar?", "next_meeting", {"person": "omar"}),
        ("am I free friday afternoon", "free_time", {"date": "2026-05-08", "time": "afternoon"}),
        ("brief me on the roadmap review", "meeting_brief", {"topic": "roadmap review"}),
        ("anything urgent in my mail?", "urgent_mail", {}),
        ("what's new since 9am", "new_mail_since", {"time": "09:00"}),
        ("what did Omar send me yesterday", "mail_from_person", {"person": "omar", "date": "2026-05-05"}),
        ("find emails about the hiring freeze", "mail_about_topic", {"topic": "hiring freeze"}),
        ("summarize the thread about the move", "summarize_thread", {"topic": "move"}),
        ("who's still waiting on me?", "waiting_on_me", {}),
        ("has Omar replied yet?", "i_am_waiting_on", {"person": "omar"}),
        (
            "remind me to book the venue on Friday at 4pm",
            "remind_me",
            {"date": "2026-05-08", "time": "16:00"},
        ),
        ("list my reminders", "list_reminders", {}),
        ("cancel reminder 3", "cancel_reminder", {"item": "3"}),
        ("snooze Omar's email until tomorrow", "snooze_item", {"item": "from:omar", "date": "2026-05-07"}),
        ("mark the third one as read", "mark_read_item", {"item": "3"}),
        ("mark it done", "mark_done_item", {"item": "this"}),
        ("done with the Omar one", "mark_done_item", {"item": "from:omar"}),
        ("snooze the venue card till monday", "snooze_item", {"item": "from:venue", "date": "2026-05-11"}),
        ("snooze the other one until monday", "snooze_item", {"date": "2026-05-11"}),
        ("snooze card 3", "snooze_item", {"item": "card:3"}),
        ("card 2 done", "mark_done_item", {"item": "card:2"}),
        ("mark 4 read", "mark_read_item", {"item": "4"}),
        ("remind me about 1 tomorrow", "remind_me", {"date": "2026-05-07", "item": "1"}),
        ("reply to card 1 saying thanks", "draft_reply", {"item": "card:1"}),
        ("has Omar replied?", "i_am_waiting_on", {"person": "omar"}),
        ("send the digest now", "digest_now", {}),
        ("send my digest at 7:45", "digest_time", {"time": "07:45"}),
        ("tell Omar the slides are ready", "draft_reply", {"person": "omar"}),
        ("approve 5d41402abc4b", "approve", {"item": "5d41402abc4b"}),
        ("reject 5d41402abc4b", "reject", {"item": "5d41402abc4b"}),
        ("what's pending", "pending", {}),
        ("add vip omar@example.com", "profile_edit", {}),
        ("show my profile", "profile_show", {}),
        ("what can you do", "help", {}),
        ("what's the weather like in Lisbon", "unknown", {}),
    ],
)
def test_a_request_is_read_as_its_intent_with_its_slots(
    text: str, intent: str, slots: dict[str, str]
) -> None:
    reading = read(text, NOW)
    assert (reading.intent, reading.slots, reading.question) == (intent, slots, None)


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("do I have anything at 4", "agenda_day", {"date": "2026-05-06", "time": "16:00"}),
        ("show me my day", "agenda_day", {"date": "2026-05-06"}),
        ("cancel my 3pm reminder", "cancel_reminder", {"time": "15:00"}),
        ("clear all reminders", "cancel_reminder", {"item": "all"}),
        ("who emailed me today", "new_mail_since", {"date": "2026-05-06"}),
        ("did Tom answer me?", "i_am_waiting_on", {"person": "tom"}),
        ("could you snooze the 3rd one till next monday", "snooze_item", {"item": "3", "date": "2026-05-11"}),
        ("good morning", "greeting", {}),
        ("thanks!", "greeting", {}),
    ],
)
def test_everyday_phrasings_beyond_the_corpus(text: str, intent: str, slots: dict[str, str]) -> None:
    reading = read(text, NOW)
    assert (reading.intent, reading.slots, reading.question) == (intent, slots, None)


def test_asking_when_the_digest_comes_changes_nothing() -> None:
    """A question about the digest is not an order to send it, nor to move it."""
    reading = read("what time is my digest?", NOW)
    assert (reading.intent, reading.when.clock) == ("digest_time", None)


def test_typos_are_repaired_and_lower_the_confidence() -> None:
    reading = read("wat meetings do i have tomorow", NOW)
    assert (reading.intent, reading.slots["date"]) == ("agenda_day", "2026-05-07")
    assert reading.confidence < 1.0
    assert read("what meetings do I have tomorrow", NOW).confidence == 1.0


def test_names_and_words_close_to_vocabulary_are_not_repaired() -> None:
    assert normalize("what did Priya send", LANGUAGES["en"]) == ("what did priya send", 0)
    assert normalize("unschedule the rent reminder", LANGUAGES["en"])[0] == "unschedule the rent reminder"
    assert normalize("since last night", LANGUAGES["en"])[0] == "since last night"


def test_a_reminder_without_a_time_asks_when_instead_of_guessing() -> None:
    reading = read("remind me to call the bank", NOW)
    assert reading.intent == "remind_me" and reading.question is not None and "When" in reading.question


def test_a_reminder_for_a_whole_week_asks_which_day() -> None:
    assert "Which day" in (read("remind me next week to renew the lease", NOW).question or "")


def test_a_reminder_without_a_subject_asks_what() -> None:
    assert "What should I remind you of" in (read("remind me at 3 tomorrow", NOW).question or "")


def test_a_reminder_keeps_its_text_as_written() -> None:
    reading = read("Remind me to call Dana at 3pm tomorrow", NOW)
    assert (reading.message, reading.question) == ("call Dana", None)
    assert read("in 2 hours remind me to check the oven", NOW).message == "check the oven"


def test_a_reply_draft_keeps_the_users_sentence_and_asks_when_it_is_missing() -> None:
    assert read("draft a reply to Tom saying I'll send it tonight", NOW).body == "I'll send it tonight"
    assert read("tell Priya thanks, I'll take a look", NOW).body == "thanks, I'll take a look"
    assert read("reply to Tom", NOW).question == "What should the reply say?"


def test_forget_a_reminder_cancels_it_and_does_not_edit_the_profile() -> None:
    assert read("forget the reminder about the bank", NOW).intent == "cancel_reminder"
    assert read("forget that I like tea", NOW).intent == "profile_edit"


def test_waiting_on_me_and_waiting_on_them_are_told_apart() -> None:
    assert read("who is waiting on me?", NOW).intent == "waiting_on_me"
    assert read("who am I waiting on?", NOW).intent == "i_am_waiting_on"


def test_tomorrow_is_not_today() -> None:
    assert read("what meetings do I have tomorrow?", NOW).slots == {"date": "2026-05-07"}


def test_intent_only_slots_are_kept() -> None:
    """A reply's "tonight" is part of its sentence, not a slot of the draft."""
    assert read("tell Tom I'll send it tonight", NOW).slots == {"person": "tom"}
