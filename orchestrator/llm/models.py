"""Provider-neutral shapes for one chat turn: what goes to the model and what comes back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr


class LLMConfig(BaseModel):
    """Where the model lives and how patiently to talk to it."""

    base_url: str | None = Field(None, description="OpenAI-compatible endpoint; None means api.openai.com")
    api_key: SecretStr | None = Field(None, description="API key; local servers accept any value")
    model: str = Field("gpt-4o-mini", description="Model name sent with each request")
    timeout_seconds: float = Field(60.0, gt=0, description="Per-request timeout")
    max_retries: int = Field(4, ge=0, le=10, description="Retries with backoff on 429, 5xx and timeouts")
    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature, if set")


class ToolSpec(BaseModel):
    """A tool the model may call: a name, a description and a JSON schema for its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCallRequest(BaseModel):
    """One tool call the model asked for. `arguments_error` is set when its JSON did not parse."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""
    arguments_error: str | None = None


class ChatMessage(BaseModel):
    """A message of the conversation in chat-completions form."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    tool_call_id: str | None = None


class Usage(BaseModel):
    """Tokens one request spent."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelTurn(BaseModel):
    """What the model answered: text, tool calls, or both, and what it cost."""

    content: str | None = None
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
