"""The conversation engine (`orchestrator.conversation.intents.read`) as a reader the bench scores."""

from __future__ import annotations

from datetime import datetime

from bench.conversation_eval.score import Reading
from orchestrator.conversation.intents import read

__all__ = ["read_engine"]


def read_engine(text: str, now: datetime) -> Reading:
    reading = read(text, now)
    return Reading(reading.intent, dict(reading.slots), reading.question)
