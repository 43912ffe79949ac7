"""`ChatModel`: one chat-completions request with tools, through the `openai` package.

Retries with exponential backoff on 429, 5xx, connection errors and timeouts are the `openai` client's
own (`max_retries`). What the model gets wrong is not an exception: a tool call whose arguments are not
a JSON object, or that names a tool it was not offered, comes back with `arguments_error` set, so the
caller can return that error to the model as the tool's result and let it try again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.llm.models import ChatMessage, LLMConfig, ModelTurn, ToolCallRequest, ToolSpec, Usage

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["ChatModel", "LLMError"]


class LLMError(RuntimeError):
    """The endpoint could not give an answer (after retries): unreachable, refused, or broken."""


class ChatModel:
    """A model behind an OpenAI-compatible endpoint; counts the tokens it spends."""

    def __init__(self, config: LLMConfig, client: AsyncOpenAI | None = None) -> None:
        self.config = config
        self.usage = Usage()
        # `openai` takes most of a second to import: only Pepper in LLM mode pays for it.
        from openai import AsyncOpenAI

        self._client = client or AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else "not-needed",
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
        )

    async def close(self) -> None:
        await self._client.close()

    async def served_models(self) -> list[str] | None:
        """The model ids the endpoint lists (`GET /models`); None when it has no such list."""
        from openai import NotFoundError, OpenAIError

        try:
            page = await self._client.models.list()
        except NotFoundError:
            return None
        except OpenAIError as exc:
            raise LLMError(f"{type(exc).__name__}: {exc}") from exc
        return [model.id for model in page.data]

    async def complete(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> ModelTurn:
        """Ask the model for its next turn; raises `LLMError` when no answer could be had."""
        request: dict[str, Any] = {"model": self.config.model, "messages": [to_wire(m) for m in messages]}
        if tools:
            request["tools"] = [tool_to_wire(t) for t in tools]
        if self.config.temperature is not None:
            request["temperature"] = self.config.temperature
        import openai

        try:
            response = await self._client.chat.completions.create(**request)
        except openai.APIStatusError as exc:
            raise LLMError(f"the model endpoint answered {exc.status_code}: {exc.message}") from exc
        except openai.APITimeoutError as exc:
            timeout = self.config.timeout_seconds
            raise LLMError(f"the model endpoint did not answer within {timeout} s") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"the model endpoint is unreachable ({self.config.base_url}): {exc}") from exc
        if not response.choices:
            raise LLMError("the model endpoint returned no choices")
        turn = parse_turn(response, {t.name for t in tools})
        self.usage = Usage(
            prompt_tokens=self.usage.prompt_tokens + turn.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens + turn.usage.completion_tokens,
        )
        return turn


def parse_turn(response: Any, offered: set[str]) -> ModelTurn:
    """The provider-neutral `ModelTurn` of a chat-completions response."""
    choice = response.choices[0]
    calls = [parse_tool_call(call, offered) for call in (choice.message.tool_calls or [])]
    usage = response.usage
    return ModelTurn(
        content=choice.message.content,
        tool_calls=calls,
        finish_reason=choice.finish_reason,
        usage=Usage(
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        ),
        model=response.model or "",
    )


def parse_tool_call(call: Any, offered: set[str]) -> ToolCallRequest:
    """One tool call; a bad name or bad JSON is reported in `arguments_error`, never raised."""
    name, raw = call.function.name, call.function.arguments or ""
    request = ToolCallRequest(id=call.id, name=name, raw_arguments=raw)
    if name not in offered:
        available = ", ".join(sorted(offered)) or "none"
        request.arguments_error = f"there is no tool named {name!r}; available tools: {available}"
        return request
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        request.arguments_error = f"the arguments are not valid JSON ({exc.msg} at {exc.pos}): {raw[:200]}"
        return request
    if not isinstance(arguments, dict):
        request.arguments_error = f"the arguments must be a JSON object, got {type(arguments).__name__}"
        return request
    request.arguments = arguments
    return request


def to_wire(message: ChatMessage) -> dict[str, Any]:
    """A `ChatMessage` in the JSON shape chat-completions expects."""
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw_arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        wire["tool_call_id"] = message.tool_call_id
    return wire


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }
