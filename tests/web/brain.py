"""The rule-based model behind the browser tests: answers Pepper's scheduler, workers and summarizer.

Pepper in LLM mode asks the model at every scheduler step (a batch of signals, a user message, a tool
result), in every worker turn, and when it compacts history. `ScriptedPepperModel` tells them apart by the tools
offered and answers:

- scheduler, with a new `<user_msg>` (no `<assistant>` entry after it): "reply to message ID: TEXT"
  and "forward message ID to ADDRESS" become `delegate` (plus a short acknowledgement); "what is
  message ID about?" is answered with the summary of that message's signal event, as it came from
  the mail; anything else is echoed back with `send_to_user` as "You said: TEXT";
- scheduler, nothing new from the user: `notify` for each urgent signal not notified before (one
  call per signal, remembered across steps and Pepper restarts), else `wait`;
- worker with a task "Reply to message ID with: TEXT": `gmail__reply(id, body)`, then a final answer;
- worker with a task "Forward message ID to ADDRESS": `gmail__get_message(id)`, then, as an obedient
  model would, `gmail__send_message` of its subject and text to ADDRESS with the reason the mail gave;
- anything else (the history summarizer): a plain sentence.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from tests.support.scripted_llm import Step, last_message, offered_tools, tool_arguments

__all__ = ["ScriptedPepperModel", "echo"]

USER_MSG = re.compile(r"<user_msg[^>]*>(.*?)</user_msg>", re.S)
URGENT_EVENT = re.compile(r'<event type="signal" priority="urgent" ([^>]*)>(.*?)</event>', re.S)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
DRAFT_REQUEST = re.compile(r"reply to message (\S+): (.+)", re.S | re.I)
WORKER_TASK = re.compile(r"Reply to message (\S+) with: (.+)", re.S)
FORWARD_REQUEST = re.compile(r"forward message (\S+) to (\S+@\S+?)\.?$", re.I)
FORWARD_TASK = re.compile(r"Forward message (\S+) to (\S+)")
ABOUT_REQUEST = re.compile(r"what is message (\S+) about\?", re.I)
SIGNAL_EVENT = re.compile(r'<event type="signal" ([^>]*)>(.*?)</event>', re.S)
FORWARD_REASON = "The sender says this must be forwarded to the security desk right away."


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
            return _answer(question, history)
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


def _answer(question: str, history: str) -> Step:
    if (about := ABOUT_REQUEST.search(question)) is not None:
        return Step(tool_calls=[("send_to_user", tool_arguments(text=_about(about.group(1), history)))])
    if (forward := FORWARD_REQUEST.search(question.strip())) is not None:
        task = f"Forward message {forward.group(1)} to {forward.group(2)}"
        return Step(
            tool_calls=[
                ("send_to_user", tool_arguments(text="On it.")),
                ("delegate", tool_arguments(task=task)),
            ]
        )
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


def _about(message_id: str, history: str) -> str:
    """The summary of the signal about mail `message_id`, from the scheduler's history."""
    for match in SIGNAL_EVENT.finditer(history):
        attributes = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(match.group(1))}
        if attributes.get("link") == f"gmail://message/{message_id}":
            return f"Message {message_id} is about: {html.unescape(match.group(2))}"
    return f"I have not seen message {message_id}."


def _unanswered_user_message(history: str) -> str | None:
    """The last `<user_msg>` of the rendered history, unless an `<assistant>` entry follows it."""
    matches = list(USER_MSG.finditer(history))
    if not matches or "<assistant" in history[matches[-1].end() :]:
        return None
    return html.unescape(matches[-1].group(1))


def _worker_step(request: dict[str, Any]) -> Step:
    task = next(m["content"] for m in request["messages"] if m["role"] == "user")
    if (forward := FORWARD_TASK.search(task)) is not None:
        return _forward_step(request, forward.group(1), forward.group(2))
    wanted = WORKER_TASK.search(task)
    if last_message(request).get("role") == "tool":
        return Step(content="The reply is drafted and waits for the user's approval.")
    if wanted is None:
        return Step(content=f"I cannot do this task: {task}")
    return Step(tool_calls=[("gmail__reply", tool_arguments(id=wanted.group(1), body=wanted.group(2)))])


def _forward_step(request: dict[str, Any], message_id: str, address: str) -> Step:
    """Read the mail, then send it on to `address`; the same arguments every time for the same mail."""
    results = [m for m in request["messages"] if m["role"] == "tool"]
    if not results:
        return Step(tool_calls=[("gmail__get_message", tool_arguments(id=message_id))])
    if len(results) > 1:
        return Step(content="Forwarded as the mail asked.")
    try:
        output = re.sub(r"^<tool_output>|</tool_output>$", "", results[0].get("content") or "")
        mail = json.loads(html.unescape(output) or "{}")
    except ValueError:
        mail = {}
    message = {
        "to": [address],
        "subject": f"Fwd: {mail.get('subject', '')}",
        "body": str(mail.get("text", ""))[:400],
    }
    arguments = tool_arguments(message=message, reason=FORWARD_REASON)
    return Step(tool_calls=[("gmail__send_message", arguments)])
