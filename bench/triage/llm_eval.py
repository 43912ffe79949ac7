"""LLM triage over the same public mail, through `LLMTriage` and a real OpenAI-compatible endpoint.

The model sees what it would see for a new user: an empty context store (no related mail) and the
profile of `mail_eval.new_user_profile`. A seeded sample keeps the cost bounded; requests run a few
at a time. An answer the engine rejected twice, or a failed endpoint, leaves the rules verdict in
place, and the figures count those (`fallbacks_to_rules`).
"""

from __future__ import annotations

from bench.triage.mail_eval import measure
from orchestrator.feeds.triage_llm import LLMTriage
from orchestrator.llm import ChatModel, LLMConfig

__all__ = ["EmptyStore", "measure_llm"]


class EmptyStore:
    """A new user's context store, as far as `LLMTriage` asks it: no related mail to find."""

    async def search(self, query: str, namespaces: list[str], limit: int = 10) -> list:
        return []


async def measure_llm(
    messages: list[tuple[str, str, bytes]], config: LLMConfig, concurrency: int, shown: int
) -> dict:
    """The figures of `measure` for `LLMTriage` on `config`'s model, with its name and token use."""
    model = ChatModel(config)
    try:
        engine = LLMTriage(model, EmptyStore())  # type: ignore[arg-type]
        result = await measure(messages, engine, concurrency, shown)
    finally:
        await model.close()
    result["model"] = {"name": config.model, "endpoint": config.base_url, "sample": len(messages)}
    result["model"]["usage"] = model.usage.model_dump()
    return result
