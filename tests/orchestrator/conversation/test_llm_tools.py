"""The LLM mode shares the conversation's actions: the scripted OpenAI-compatible model (real HTTP)
is offered `snooze_item`, `mark_done_item`, `list_reminders` ... beside the scheduler's own tools;
its call goes through the scheduler's tool runner into `Conversation.act`, the code rules mode runs,
so the card it names by the page's number leaves Now (a real context store and notify server)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import pytest

from orchestrator.brains.llm_brain import LLMBrain
from orchestrator.context_items import ContextItems
from orchestrator.conversation.hidden import NAMESPACE, hidden_keys
from orchestrator.conversation.tools import ACTION_TOOLS, run_action
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.scheduler.engine import PendingCall
from orchestrator.scheduler.events import EventKind, SchedulerEvent
from orchestrator.scheduler.loop import StepInput
from orchestrator.scheduler_tools import SchedulerToolRunner, scheduler_tools
from tests.orchestrator.conversation.test_actions import BERLIN, PINNED, conversation
from tests.orchestrator.conversation.test_cards import page_order
from tests.orchestrator.conversation.test_waiting_on_me import triaged_mailbox
from tests.support.scripted_llm import Step, offered_tools, scripted_llm_server, tool_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context", "notify")]


def said(text: str) -> StepInput:
    event = SchedulerEvent(kind=EventKind.USER_MESSAGE, content=text)
    return StepInput(
        history=f"<user_msg>{text}</user_msg>", batch=[event], tools=scheduler_tools(llm_mode=True)
    )


async def _no_reply(text: str) -> None:
    return None


async def model_calls(
    calls: list[tuple[str, dict[str, Any]]], runner: SchedulerToolRunner, text: str
) -> list[str]:
    """The scripted model answers `text` with `calls`; each runs as the engine runs it."""
    turn = Step(tool_calls=[(name, tool_arguments(**arguments)) for name, arguments in calls])
    with scripted_llm_server(turn) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        decision = await LLMBrain(model).decide(said(text))
        await model.close()
    assert set(ACTION_TOOLS) <= offered_tools(llm.requests[0])
    return [await runner(PendingCall(id=c.id, name=c.name, arguments=c.arguments)) for c in decision.calls]


async def test_the_model_snoozes_card_2_and_the_card_leaves_now(connections) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    order, titles = await page_order(items)
    talk = conversation(connections, clock=lambda: PINNED)
    talk.cards.show(order)
    runner = SchedulerToolRunner(items, connections["notify"], _no_reply, actions=partial(run_action, talk))
    [result] = await model_calls(
        [("snooze_item", {"item": "2", "until": "monday"})], runner, "snooze 2 till monday"
    )
    assert result == f"Snoozed until Mon 16 Mar at 09:00: {titles[order[1]]}"
    [stored] = await items.query([NAMESPACE])  # what the page and the chat leave out of Now
    assert (stored.id, stored.data["state"]) == (order[1], "snoozed")
    assert await hidden_keys(talk.services, PINNED) == {order[1]}


async def test_the_model_finishes_a_card_by_key_and_manages_reminders_through_the_same_actions(
    connections,
) -> None:
    items = ContextItems(connections["context"])
    await triaged_mailbox(items)
    order, titles = await page_order(items)
    talk = conversation(connections, clock=lambda: datetime.now(BERLIN))  # the notify server's clock
    runner = SchedulerToolRunner(items, connections["notify"], _no_reply, actions=partial(run_action, talk))
    await talk.answer("remind me to call Dana tomorrow at 3pm")
    done, listed, cancelled, listed_again = await model_calls(
        [
            ("mark_done_item", {"item": order[0]}),
            ("list_reminders", {}),
            ("cancel_reminder", {"reminder": "dana"}),
            ("list_reminders", {"when": "tomorrow"}),
        ],
        runner,
        "done with that one, and drop my Dana reminder",
    )
    assert done == f"Done, off your Now list: {titles[order[0]]}"
    assert listed == "Your reminders:\n1. Call Dana — tomorrow at 15:00"
    assert (cancelled, listed_again) == ("Cancelled: Call Dana", "No reminders then.")


async def test_an_action_the_model_gets_wrong_comes_back_as_the_user_would_hear_it(connections) -> None:
    talk = conversation(connections)
    runner = SchedulerToolRunner(
        ContextItems(connections["context"]), None, _no_reply, actions=partial(run_action, talk)
    )
    with pytest.raises(Exception, match="Open Pepper's page to see the cards' numbers"):
        await runner(PendingCall(id="c1", name="snooze_item", arguments={"item": "card 4"}))
    with pytest.raises(ValueError, match="invalid arguments for mark_read_item: item: Field required"):
        await runner(PendingCall(id="c2", name="mark_read_item", arguments={}))
    bare = SchedulerToolRunner(ContextItems(connections["context"]), None, _no_reply)
    with pytest.raises(ValueError, match="snooze_item is not available here"):
        await bare(PendingCall(id="c3", name="snooze_item", arguments={"item": "1"}))
