"""ChatModel over real HTTP to a scripted OpenAI-compatible server."""

from __future__ import annotations

import pytest

from orchestrator.llm import ChatMessage, ChatModel, LLMConfig, LLMError, ToolSpec
from tests.support.scripted_llm import Step, scripted_llm_server, tool_arguments

pytestmark = pytest.mark.anyio

SEARCH = ToolSpec(
    name="search_context",
    description="Search mail, calendar and notes.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
ASK = [ChatMessage(role="user", content="What is urgent?")]


def model_for(base_url: str, **overrides) -> ChatModel:
    settings = {"base_url": base_url, "model": "scripted-model", "timeout_seconds": 5.0, **overrides}
    config = LLMConfig(**settings)
    return ChatModel(config)


async def test_complete_returns_text_and_records_usage() -> None:
    with scripted_llm_server(Step(content="Nothing urgent.", prompt_tokens=12, completion_tokens=3)) as llm:
        model = model_for(llm.base_url)
        turn = await model.complete(ASK)
        await model.close()
    assert turn.content == "Nothing urgent."
    assert turn.tool_calls == []
    assert (turn.usage.prompt_tokens, turn.usage.completion_tokens) == (12, 3)
    assert model.usage.total_tokens == 15
    assert llm.requests[0]["model"] == "scripted-model"
    assert llm.requests[0]["messages"] == [{"role": "user", "content": "What is urgent?"}]


async def test_complete_parses_tool_calls_and_sends_tool_schemas() -> None:
    step = Step(tool_calls=[("search_context", tool_arguments(query="invoice"))])
    with scripted_llm_server(step) as llm:
        model = model_for(llm.base_url)
        turn = await model.complete(ASK, tools=[SEARCH])
        await model.close()
    assert [(c.name, c.arguments, c.arguments_error) for c in turn.tool_calls] == [
        ("search_context", {"query": "invoice"}, None)
    ]
    assert llm.requests[0]["tools"][0]["function"]["name"] == "search_context"


async def test_complete_reports_malformed_arguments_without_raising() -> None:
    step = Step(tool_calls=[("search_context", '{"query": "unterminated'), ("search_context", "[1, 2]")])
    with scripted_llm_server(step) as llm:
        model = model_for(llm.base_url)
        turn = await model.complete(ASK, tools=[SEARCH])
        await model.close()
    broken, not_object = turn.tool_calls
    assert "not valid JSON" in (broken.arguments_error or "")
    assert "must be a JSON object" in (not_object.arguments_error or "")


async def test_complete_reports_unknown_tool_names() -> None:
    with scripted_llm_server(Step(tool_calls=[("delete_everything", "{}")])) as llm:
        model = model_for(llm.base_url)
        turn = await model.complete(ASK, tools=[SEARCH])
        await model.close()
    assert turn.tool_calls[0].arguments_error == (
        "there is no tool named 'delete_everything'; available tools: search_context"
    )


async def test_complete_retries_after_429_and_500() -> None:
    steps = (Step(status=429), Step(status=500), Step(content="Recovered."))
    with scripted_llm_server(*steps) as llm:
        model = model_for(llm.base_url, max_retries=3)
        turn = await model.complete(ASK)
        await model.close()
    assert turn.content == "Recovered."
    assert len(llm.requests) == 3


async def test_complete_raises_llm_error_when_retries_run_out() -> None:
    with scripted_llm_server(Step(status=500), Step(status=500)) as llm:
        model = model_for(llm.base_url, max_retries=1)
        with pytest.raises(LLMError, match="answered 500"):
            await model.complete(ASK)
        await model.close()


async def test_complete_raises_llm_error_on_timeout() -> None:
    with scripted_llm_server(Step(content="late", delay=3)) as llm:
        model = model_for(llm.base_url, max_retries=0, timeout_seconds=0.5)
        with pytest.raises(LLMError, match="did not answer within 0.5 s"):
            await model.complete(ASK)
        await model.close()


async def test_complete_raises_llm_error_when_endpoint_is_unreachable() -> None:
    model = model_for("http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(LLMError, match="unreachable"):
        await model.complete(ASK)
    await model.close()
