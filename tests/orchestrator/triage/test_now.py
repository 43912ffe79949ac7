"""The Now list holds what the issue lists beside mail: the meetings of the rest of today (not
tomorrow's, not all-day events, not one that started over an hour ago) and the follow-ups whose wait
is over, all within the budget; and the chat lists them as the page does, from a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.services import Services
from orchestrator.feeds.signals import Signal
from orchestrator.triage.now import NOW_LIMIT, in_now, now_list

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 11, 16, 0, tzinfo=LONDON)


def meeting(id: str, starts: datetime, all_day: bool = False, priority: str = "normal") -> dict:
    return Signal(kind="meeting", source_id=id, priority=priority, category="meeting", summary=f"Meeting {id}",
                  starts_at=starts, all_day=all_day, brief=f"Brief of {id}").model_dump(mode="json")  # fmt: skip


def follow_up(id: str, state: str) -> dict:
    signal = Signal(kind="follow_up", source_id=id, priority="normal" if state == "overdue" else "low",
                    category="follow_up", summary=f"{state}: dana — Quote {id}")  # fmt: skip
    return signal.model_dump(mode="json") | {"state": state}


def mail(id: str, score: float) -> dict:
    signal = Signal(kind="email", source_id=id, priority="normal", category="action", summary=f"Mail {id}",
                    score=score, attention=True)  # fmt: skip
    return signal.model_dump(mode="json")


def test_todays_meetings_and_overdue_follow_ups_are_in_now() -> None:
    assert in_now(meeting("later", NOW + timedelta(hours=2)), NOW)
    assert in_now(meeting("just-started", NOW - timedelta(minutes=30)), NOW)
    assert in_now(meeting("late-tonight", datetime(2026, 3, 11, 23, 30, tzinfo=LONDON)), NOW)
    assert not in_now(meeting("tomorrow", datetime(2026, 3, 12, 0, 30, tzinfo=LONDON)), NOW)
    assert not in_now(meeting("this-morning", NOW - timedelta(hours=3)), NOW)
    assert not in_now(meeting("holiday", datetime(2026, 3, 11, tzinfo=UTC), all_day=True), NOW)
    assert not in_now(meeting("later", NOW + timedelta(hours=2)))  # no clock, no "today"
    assert in_now(follow_up("f1", "overdue")) and not in_now(follow_up("f2", "waiting"))


def test_now_ranks_them_with_mail_within_the_budget() -> None:
    signals = [mail(f"m{n}", 1.0 + n / 100) for n in range(NOW_LIMIT)]
    signals += [meeting("soon", NOW + timedelta(hours=1), priority="high"), follow_up("f1", "overdue")]
    shown, more = now_list(signals, now=NOW)
    assert len(shown) == NOW_LIMIT and more == 2
    assert [s["source_id"] for s in shown[:2]] == ["soon", "m14"]  # high: 2.0, above every mail here
    assert "f1" not in [s["source_id"] for s in shown]  # normal (0.5): behind "show more"
    shown, more = now_list(signals[NOW_LIMIT - 3 :], now=NOW)
    assert [s["source_id"] for s in shown][-1] == "f1" and more == 0


@pytest.mark.anyio
@pytest.mark.servers("context")
async def test_chat_lists_todays_meeting_and_an_overdue_follow_up_like_the_page(connections) -> None:
    items = ContextItems(connections["context"])
    for data in (meeting("q1", NOW + timedelta(hours=1), priority="high"), meeting("q2", NOW + timedelta(days=1)),
                 follow_up("f1", "overdue"), follow_up("f2", "waiting")):  # fmt: skip
        namespace = {"meeting": "signals.meeting", "follow_up": "signals.follow_up"}[data["kind"]]
        await items.put(namespace, data["source_id"], data)
    chat = Conversation(Services({"context": connections["context"]}, items), lambda: NOW)
    listed = (await chat.answer("what is urgent?")).text
    assert listed.startswith("Needs your attention:\n1. **high** Meeting q1\n2. **normal** overdue: dana")
    assert "Meeting q2" not in listed and "waiting: dana" not in listed
