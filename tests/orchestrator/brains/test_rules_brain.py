"""Rules mode: notifications for important signals, and chat answered by retrieval."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from orchestrator.brains.rules_brain import HELP, RulesBrain
from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent
from orchestrator.scheduler.loop import StepInput

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def step(*events: SchedulerEvent) -> StepInput:
    return StepInput(history="", batch=list(events), tools=[])


def user(text: str) -> SchedulerEvent:
    return SchedulerEvent(kind=EventKind.USER_MESSAGE, content=text)


def result_for(call_id: str, *items: dict) -> SchedulerEvent:
    lines = "\n".join(json.dumps(item) for item in items) or "no matches"
    return SchedulerEvent(kind=EventKind.TOOL_RESULT, content=lines, attributes={"id": call_id, "ok": True})


async def test_rules_brain_notifies_high_and_urgent_signals_only() -> None:
    brain = RulesBrain()
    urgent = SchedulerEvent(
        kind=EventKind.SIGNAL,
        content="Dana: contract due tomorrow",
        priority=Priority.URGENT,
        attributes={"id": "m1", "link": "gmail://message/m1", "reasons": ["asks the user directly"]},
    )
    routine = SchedulerEvent(
        kind=EventKind.SIGNAL, content="Newsletter", priority=Priority.LOW, attributes={"id": "m2"}
    )
    decision = await brain.decide(step(urgent, routine))
    [call] = decision.calls
    assert (call.id, call.name) == ("notify-m1", "notify")
    assert call.arguments == {
        "title": "Dana: contract due tomorrow",
        "body": "asks the user directly",
        "priority": "urgent",
        "link": "gmail://message/m1",
    }


async def test_rules_brain_answers_help_and_unknown_requests_with_the_list() -> None:
    decision = await RulesBrain().decide(step(user("tell me a joke")))
    assert decision.reply == HELP and decision.calls == []


async def test_rules_brain_answers_what_is_urgent_after_retrieval() -> None:
    brain = RulesBrain(now=lambda: NOW)
    asked = await brain.decide(step(user("What is urgent?")))
    [call] = asked.calls
    assert asked.reply is None
    assert call.arguments == {"namespaces": ["signals.*"], "any_tags": ["urgent", "high"], "limit": 50}
    items = [
        {"data": {"priority": "high", "summary": "Boss: budget review"}},
        {"data": {"priority": "low", "summary": "Shop: receipt"}},
        {"data": {"priority": "urgent", "summary": "Dana: contract due tomorrow"}},
    ]
    answered = await brain.decide(step(result_for(call.id, *items)))
    assert (
        answered.reply
        == "Needs your attention:\n- **urgent** Dana: contract due tomorrow\n- **high** Boss: budget review"
    )


async def test_rules_brain_lists_only_todays_meetings_in_time_order() -> None:
    brain = RulesBrain(now=lambda: NOW)
    call = (await brain.decide(step(user("today's meetings")))).calls[0]
    items = [
        {
            "data": {
                "summary": "Design review",
                "starts_at": "2026-11-24T15:00:00+00:00",
                "brief": "Bring the mockups.\nMore",
            }
        },
        {"data": {"summary": "Standup", "starts_at": "2026-11-24T09:30:00+00:00"}},
        {"data": {"summary": "Offsite", "starts_at": "2026-11-26T09:00:00+00:00"}},
    ]
    reply = (await brain.decide(step(result_for(call.id, *items)))).reply
    assert reply == "Today's meetings:\n- **09:30** Standup\n- **15:00** Design review — Bring the mockups."


async def test_rules_brain_search_extracts_the_words_to_look_for() -> None:
    brain = RulesBrain()
    call = (await brain.decide(step(user("search my email for invoice from ACME?")))).calls[0]
    assert call.arguments == {
        "query": "invoice from ACME",
        "namespaces": ["raw.email", "raw.calendar"],
        "limit": 10,
    }
    reply = (
        await brain.decide(step(result_for(call.id, {"id": "m7", "text": "ACME invoice 42\nbody"})))
    ).reply
    assert reply == "Found:\n- ACME invoice 42"


async def test_rules_brain_reports_a_failed_retrieval() -> None:
    brain = RulesBrain()
    call = (await brain.decide(step(user("follow-ups")))).calls[0]
    failed = SchedulerEvent(
        kind=EventKind.TOOL_RESULT, content="context is down", attributes={"id": call.id, "ok": False}
    )
    assert (await brain.decide(step(failed))).reply == "I could not look that up: context is down"


async def test_rules_brain_does_not_notify_reminders_again() -> None:
    reminder = SchedulerEvent(
        kind=EventKind.SIGNAL,
        content="Reminder: call",
        priority=Priority.HIGH,
        source="reminder",
        attributes={"id": "n1"},
    )
    assert (await RulesBrain().decide(step(reminder))).calls == []
