"""Asking a model for one structured record: a single call of a given tool, validated by pydantic.

`ask_record` sends the messages with only that tool offered; an answer without the call, with
arguments that are not JSON, or that the schema refuses goes back once with the error (the
assistant turn, an error result for each of its calls, and "That was not valid ... call it again");
the second failure, or an endpoint that fails, returns None and why, so the caller can fall back
(the rules' verdict, in triage).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from orchestrator.llm.chat import ChatModel, LLMError
from orchestrator.llm.models import ChatMessage, ToolCallRequest, ToolSpec

__all__ = ["ask_record", "read_record"]

M = TypeVar("M", bound=BaseModel)


def read_record(calls: list[ToolCallRequest], tool: str, schema: type[M]) -> tuple[M | None, str]:
    """The first call of `tool` among `calls`, validated; or None and what was wrong with it."""
    recorded = [call for call in calls if call.name == tool]
    if not recorded:
        return None, f"no {tool} call"
    if recorded[0].arguments_error:
        return None, recorded[0].arguments_error
    try:
        return schema.model_validate(recorded[0].arguments), ""
    except ValidationError as exc:
        return None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


async def ask_record(
    model: ChatModel, messages: list[ChatMessage], tool: ToolSpec, schema: type[M], attempts: int = 2
) -> tuple[M | None, str]:
    """The record the model gives by calling `tool`, or None and why it could not be had."""
    failure = ""
    for _ in range(attempts):
        try:
            turn = await model.complete(messages, [tool])
        except LLMError as exc:
            return None, f"the model failed ({exc})"
        record, error = read_record(turn.tool_calls, tool.name, schema)
        if record is not None:
            return record, ""
        failure = f"the model's answer was invalid ({error})"
        messages = [
            *messages,
            ChatMessage(role="assistant", content=turn.content, tool_calls=turn.tool_calls),
            *[
                ChatMessage(role="tool", tool_call_id=call.id, content=f"error: {error}")
                for call in turn.tool_calls
            ],
            ChatMessage(
                role="user", content=f"That was not valid: {error}. Call {tool.name} again, correctly."
            ),
        ]
    return None, failure
