"""The LLM part of the harness sends each message to a real (scripted) endpoint through LLMTriage
and computes the same figures, counting the answers the rules had to replace."""

from __future__ import annotations

import json

import pytest

from bench.triage.llm_eval import measure_llm
from orchestrator.llm import LLMConfig
from tests.bench.triage.test_mail_eval import mail
from tests.support.scripted_llm import Step, scripted_llm_server

pytestmark = pytest.mark.anyio


def by_subject(body: dict) -> Step:
    """High for mail whose subject says so, low otherwise; garbage for "broken" mail."""
    prompt = body["messages"][1]["content"]
    if "Subject: broken" in prompt:
        return Step(tool_calls=[("record_triage", '{"priority": ')])
    priority = "high" if "Subject: high" in prompt else "low"
    verdict = {"priority": priority, "category": "fyi", "summary": "a summary", "reasons": ["scripted"]}
    return Step(tool_calls=[("record_triage", json.dumps(verdict))])


async def test_measure_llm_runs_the_figures_through_the_model() -> None:
    messages = [
        ("spam-1/1", "spam", mail("high stakes offer")),
        ("spam-1/2", "spam", mail("low offer")),
        ("easy-ham-1/1", "ham", mail("broken answer", "Can you send the report?")),
    ]
    with scripted_llm_server(responder=by_subject) as llm:
        config = LLMConfig(base_url=llm.base_url, max_retries=0, model="scripted")
        result = await measure_llm(messages, config, concurrency=2, shown=5)
    assert len(llm.requests) == 4  # one each, and one retry for the broken answer
    assert (result["spam"]["urgent_or_high"], result["spam"]["in_now"]) == (1, 1)
    assert result["fallbacks_to_rules"] == 1 and result["ham"]["priority"]["low"] == 0
    assert result["model"]["sample"] == 3 and result["model"]["usage"]["prompt_tokens"] == 40
