"""The orchestrator's only door to language models: chat completions with tools over any
OpenAI-compatible endpoint. Nothing else in Pepper imports `openai`."""

from orchestrator.llm.chat import ChatModel, LLMError
from orchestrator.llm.models import ChatMessage, LLMConfig, ModelTurn, ToolCallRequest, ToolSpec, Usage

__all__ = [
    "ChatMessage",
    "ChatModel",
    "LLMConfig",
    "LLMError",
    "ModelTurn",
    "ToolCallRequest",
    "ToolSpec",
    "Usage",
]
