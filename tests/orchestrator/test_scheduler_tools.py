"""The scheduler's tools, run for real against the context store and notify servers."""

from __future__ import annotations

import json

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.scheduler.engine import PendingCall
from orchestrator.scheduler_tools import SchedulerToolRunner, scheduler_tools, validate_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "notify")]


def test_scheduler_tools_leave_out_delegation_in_rules_mode() -> None:
    assert [t.name for t in scheduler_tools(llm_mode=False)] == [
        "send_to_user",
        "notify",
        "search_context",
        "wait",
    ]
    assert "delegate" in [t.name for t in scheduler_tools(llm_mode=True)]


def test_validate_arguments_says_what_to_fix() -> None:
    with pytest.raises(
        ValueError, match=r"invalid arguments for notify: title: Field required; priority: Input should be"
    ):
        validate_arguments("notify", {"priority": "whenever"})
    with pytest.raises(ValueError, match="no scheduler tool named 'launch'"):
        validate_arguments("launch", {})


async def test_runner_searches_the_context_store_lexically_when_semantic_search_is_off(connections) -> None:
    context = connections["context"]
    # raw.calendar: raw.email is left out of the store's keyword index (the gmail server's answers)
    await context.call_tool(
        "store", {"namespace": "raw.calendar", "id": "m1", "text": "ACME invoice 42 review is overdue"}
    )
    await context.call_tool("store", {"namespace": "raw.calendar", "id": "m2", "text": "Lunch on Friday?"})
    runner = SchedulerToolRunner(ContextItems(context), connections["notify"], reply=_no_reply)
    found = await runner(
        PendingCall(id="c1", name="search_context", arguments={"query": "invoice", "namespaces": ["raw.*"]})
    )
    assert [line for line in found.splitlines() if '"m1"' in line] and '"m2"' not in found
    newest = await runner(
        PendingCall(id="c2", name="search_context", arguments={"namespaces": ["raw.calendar"], "limit": 1})
    )
    assert '"id": "m2"' in newest


async def test_runner_notify_uses_the_call_id_as_dedupe_key(connections) -> None:
    runner = SchedulerToolRunner(ContextItems(connections["context"]), connections["notify"], reply=_no_reply)
    call = PendingCall(id="notify-m1", name="notify", arguments={"title": "Contract due", "priority": "high"})
    await runner(call)
    await runner(call)  # replayed after a restart
    listed = await connections["notify"].call_tool("list_notifications", {})
    notifications = listed.structured["notifications"]
    assert len(notifications) == 1 and notifications[0]["title"] == "Contract due"


async def test_runner_notify_sends_plain_text_with_foreign_links_inert(connections) -> None:
    runner = SchedulerToolRunner(ContextItems(connections["context"]), connections["notify"], reply=_no_reply)
    arguments = {
        "title": "Verify [here](https://evil.example/v?code=1)",
        "body": "Your code: 1",
        "link": "https://evil.example/v?code=1",
    }
    await runner(PendingCall(id="n-evil", name="notify", arguments=arguments))
    await runner(
        PendingCall(id="n-own", name="notify", arguments={"title": "Mail", "link": "gmail://message/7"})
    )
    listed = (await connections["notify"].call_tool("list_notifications", {})).structured["notifications"]
    by_title = {n["title"]: n for n in listed}
    evil = by_title["Verify here (hxxps://evil[.]example/v?code=1 (link not opened))"]
    assert evil["links"] == [] and evil["body"].endswith(
        "Link: hxxps://evil[.]example/v?code=1 (link not opened)"
    )
    assert by_title["Mail"]["links"] == ["gmail://message/7"]


async def test_runner_refuses_delegation_without_a_model(connections) -> None:
    runner = SchedulerToolRunner(ContextItems(connections["context"]), connections["notify"], reply=_no_reply)
    with pytest.raises(ValueError, match="rules mode"):
        await runner(PendingCall(id="d1", name="delegate", arguments={"task": "draft a reply"}))


async def _no_reply(text: str) -> None:
    raise AssertionError(f"unexpected reply {text!r}")


async def test_runner_search_with_any_tags_finds_items_with_either_tag(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put("signals.email", "a", {"priority": "urgent"}, "a", tags=["urgent"])
    await items.put("signals.email", "b", {"priority": "high"}, "b", tags=["high"])
    for index in range(60):  # newer, unimportant signals must not crowd the important ones out
        await items.put("signals.email", f"low{index}", {"priority": "low"}, "x", tags=["low"])
    runner = SchedulerToolRunner(items, None, reply=_no_reply)
    found = await runner(
        PendingCall(
            id="c",
            name="search_context",
            arguments={"namespaces": ["signals.*"], "any_tags": ["urgent", "high"], "limit": 50},
        )
    )
    assert sorted(json.loads(line)["id"] for line in found.splitlines()) == ["a", "b"]
