"""LLMBrain over real HTTP to a scripted model."""

from __future__ import annotations

import pytest

from orchestrator.brains.llm_brain import LLMBrain
from orchestrator.conversation.tools import ACTION_TOOLS
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.scheduler.events import EventKind, SchedulerEvent
from orchestrator.scheduler.loop import StepInput
from orchestrator.scheduler_tools import scheduler_tools
from tests.support.scripted_llm import Step, scripted_llm_server, tool_arguments

pytestmark = pytest.mark.anyio


def step() -> StepInput:
    event = SchedulerEvent(kind=EventKind.USER_MESSAGE, content="Anything urgent?")
    return StepInput(
        history="<user_msg>Anything urgent?</user_msg>", batch=[event], tools=scheduler_tools(llm_mode=True)
    )


async def test_llm_brain_turns_send_to_user_into_the_reply_and_other_calls_into_unique_calls() -> None:
    turn = Step(
        tool_calls=[
            ("send_to_user", tool_arguments(text="Checking.")),
            ("search_context", tool_arguments(query="urgent")),
            ("wait", "{}"),
        ]
    )
    with scripted_llm_server(turn, turn) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        brain = LLMBrain(model, profile=lambda: "The user is Ada, a product manager.")
        first = await brain.decide(step())
        second = await brain.decide(step())
        await model.close()
    assert first.reply == "Checking."
    assert [c.name for c in first.calls] == ["search_context"]
    assert first.calls[0].arguments == {"query": "urgent"}
    assert first.calls[0].id != second.calls[0].id
    sent = llm.requests[0]
    assert sent["messages"][1]["content"] == "About the user:\nThe user is Ada, a product manager."
    assert sent["messages"][-1]["content"] == "<user_msg>Anything urgent?</user_msg>"
    assert {t["function"]["name"] for t in sent["tools"]} == {
        "send_to_user",
        "notify",
        "delegate",
        "search_context",
        "wait",
        *ACTION_TOOLS,  # the conversation's actions (tests/orchestrator/conversation/test_llm_tools.py)
    }


async def test_llm_brain_passes_malformed_calls_on_with_their_error() -> None:
    with scripted_llm_server(Step(tool_calls=[("notify", '{"title": ')])) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        decision = await LLMBrain(model).decide(step())
        await model.close()
    assert decision.calls[0].error is not None and "not valid JSON" in decision.calls[0].error


async def test_llm_brain_tells_the_user_when_the_model_is_down() -> None:
    with scripted_llm_server(Step(status=503)) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        decision = await LLMBrain(model).decide(step())
        await model.close()
    assert decision.reply is not None and decision.reply.startswith("I could not reach the language model")
    assert decision.calls == []


async def test_llm_brain_prompt_carries_the_profile_with_projects_bounded_in_size() -> None:
    from datetime import UTC, datetime

    from orchestrator.feeds.mail import UserProfile
    from orchestrator.feeds.projects import Project
    from orchestrator.profile import ProfileChange, apply_change

    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    profile = UserProfile(
        addresses={"ada@example.org"},
        name="Ada Lovelace",
        role="Analyst",
        learned_projects=[Project(name="Engine", people=["charles@example.org"], last_seen=now, threads=4)],
    )
    for index in range(30):
        apply_change(profile, ProfileChange(action="add_project", value=f"Side project {index:02d}"))
    with scripted_llm_server(Step(tool_calls=[("wait", "{}")])) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        await LLMBrain(model, profile=lambda: profile.describe(now=now)).decide(step())
        await model.close()
    about = llm.requests[0]["messages"][1]["content"]
    assert about.startswith("About the user:\nThe user: Ada Lovelace, Analyst (ada@example.org).")
    assert "Projects: Engine (with charles@example.org; last 24 Nov); Side project 00;" in about
    assert "Side project 06" in about and "Side project 07" not in about  # eight projects at most
    assert len(about) <= 1600
