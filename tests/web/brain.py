"""The rule-based model behind the browser tests: answers Pepper's scheduler, workers and summarizer.

Pepper in LLM mode asks the model at every scheduler step (a batch of signals, a user message, a tool
result), in every worker turn, and when it compacts history. `ScriptedPepperModel` tells them apart by the tools
offered and answers:

- scheduler, with a new `<user_msg>` (no `<assistant>` entry after it): "reply to message ID: TEXT"
  becomes `delegate` (plus a short acknowledgement); anything else is echoed back with `send_to_user`
  as "You said: TEXT";
- scheduler, nothing new from the user: `notify` for each urgent signal not notified before (one
  call per signal, remembered across steps and Pepper restarts), else `wait`;
- worker with a task "Reply to message ID with: TEXT": `gmail__reply(id, body)`, then a final answer;
- anything else (the history summarizer): a plain sentence.
"""

from __future__ import annotations

import html
import re
from typing import Any

from tests.support.scripted_llm import Step, last_message, offered_tools, tool_arguments

__all__ = ["ScriptedPepperModel", "echo"]

USER_MSG = re.compile(r"<user_msg[^>]*>(.*?)</user_msg>", re.S)
URGENT_EVENT = re.compile(r'<event type="signal" priority="urgent" ([^>]*)>(.*?)</event>', re.S)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
DRAFT_REQUEST = re.compile(r"reply to message (\S+): (.+)", re.S | re.I)
WORKER_TASK = re.compile(r"Reply to message (\S+) with: (.+)", re.S)


def echo(text: str) -> str:
    """What the scripted Pepper answers to a chat message `text`."""
    return f"You said: **{text}**"


class ScriptedPepperModel:
    """A `Responder` for `scripted_llm_server`; remembers which urgent signals it notified."""

    def __init__(self) -> None:
        self.notified: set[str] = set()

    def __call__(self, request: dict[str, Any]) -> Step:
        tools = offered_tools(request)
        if "send_to_user" in tools:
            return self._scheduler_step(str(last_message(request).get("content") or ""))
        if "gmail__reply" in tools:
            return _worker_step(request)
        return Step(content="Earlier: the user chatted with Pepper; nothing is pending.")

    def _scheduler_step(self, history: str) -> Step:
        question = _unanswered_user_message(history)
        if question is not None:
            return _answer(question)
        calls = []
        for match in URGENT_EVENT.finditer(history):
            attributes = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(match.group(1))}
            if attributes.get("id") in self.notified:
                continue
            self.notified.add(attributes.get("id", ""))
            title = html.unescape(match.group(2))[:200]
            calls.append(
                ("notify", tool_arguments(title=title, priority="urgent", link=attributes.get("link")))
            )
        return Step(tool_calls=calls or [("wait", tool_arguments(reason="nothing new"))])


def _answer(question: str) -> Step:
    draft = DRAFT_REQUEST.search(question)
    if draft is None:
        return Step(tool_calls=[("send_to_user", tool_arguments(text=echo(question)))])
    message_id, body = draft.group(1), draft.group(2).strip()
    return Step(
        tool_calls=[
            ("send_to_user", tool_arguments(text="On it: drafting that reply for your approval.")),
            ("delegate", tool_arguments(task=f"Reply to message {message_id} with: {body}")),
        ]
    )


def _unanswered_user_message(history: str) -> str | None:
    """The last `<user_msg>` of the rendered history, unless an `<assistant>` entry follows it."""
    matches = list(USER_MSG.finditer(history))
    if not matches or "<assistant" in history[matches[-1].end() :]:
        return None
    return html.unescape(matches[-1].group(1))


def _worker_step(request: dict[str, Any]) -> Step:
    if last_message(request).get("role") == "tool":
        return Step(content="The reply is drafted and waits for the user's approval.")
    task = next(m["content"] for m in request["messages"] if m["role"] == "user")
    wanted = WORKER_TASK.search(task)
    if wanted is None:
        return Step(content=f"I cannot do this task: {task}")
    return Step(tool_calls=[("gmail__reply", tool_arguments(id=wanted.group(1), body=wanted.group(2)))])
