"""The whole LLM-mode path in-process: Pepper with a real context-store child and the scripted
OpenAI-compatible model. The page shows one card; the user writes "snooze card 1 until tomorrow";
the model calls `snooze_item` with the page's number, the scheduler's engine runs it through the
conversation's actions (`Pepper._conversation_action`), the card is put away from Now, and the
model's answer quotes the result it was handed."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.app import Pepper
from orchestrator.config import load_settings
from orchestrator.conversation.hidden import NAMESPACE
from tests.orchestrator.extensions.test_custom_workers import TOOL_RESULT, USER_MSG, chat_until
from tests.support.processes import REPO_ROOT
from tests.support.scripted_llm import Step, last_message, offered_tools, scripted_llm_server, tool_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

CONFIG = f"""
[servers.context]
env = {{ PEPPER_CONTEXT_EMBEDDER = "none", PYTHONPATH = "{REPO_ROOT}" }}
[servers.gmail]
enabled = false
[servers.calendar]
enabled = false
[servers.notify]
enabled = false
"""
CARD = {"kind": "email", "source_id": "m1", "summary": "Dana: Q3 numbers for the board", "priority": "high"}


class SnoozingModel:
    """Snoozes the card the user names by number, then tells the user what the tool said."""

    def __call__(self, request: dict[str, Any]) -> Step:
        history = html.unescape(str(last_message(request).get("content", "")))
        if "snooze_item" not in offered_tools(request):
            return Step(tool_calls=[("wait", "{}")])
        if results := [r for r in TOOL_RESULT.findall(history) if "Snoozed" in r]:
            return Step(tool_calls=[("send_to_user", tool_arguments(text=results[-1].strip()))])
        asked = re.search(r"snooze card (\d+)", " ".join(USER_MSG.findall(history)))
        if asked is None:
            return Step(tool_calls=[("wait", "{}")])
        return Step(tool_calls=[("snooze_item", tool_arguments(item=asked.group(1), until="tomorrow"))])


async def test_the_model_snoozes_the_card_the_user_sees_as_1_and_it_leaves_now(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    with scripted_llm_server(responder=SnoozingModel()) as llm:
        settings = load_settings(
            tmp_path / "config.toml",
            data_dir=tmp_path / "data",
            openai_base_url=llm.base_url,
            openai_api_key="test",
        )
        pepper = Pepper(settings)
        async with anyio.create_task_group() as task_group:
            await task_group.start(pepper.run)
            await pepper.items.put("signals.email", "m1", CARD, CARD["summary"])
            pepper.conversation.cards.show(["signals.email/m1"])
            await pepper.send("snooze card 1 until tomorrow")
            lines = await chat_until(pepper, lambda lines: any(line.startswith("Snoozed") for line in lines))
            hidden = await pepper.items.query([NAMESPACE])
            task_group.cancel_scope.cancel()
        await pepper.aclose()
    assert pepper.mode == "llm"
    assert [line for line in lines if line.startswith("Snoozed")] == [
        f"Snoozed until tomorrow at 09:00: {CARD['summary']}"
    ]
    assert [(item.id, item.data["state"]) for item in hidden] == [("signals.email/m1", "snoozed")]
