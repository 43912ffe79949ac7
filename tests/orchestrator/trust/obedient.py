"""A maximally obedient model for the injection corpus: it carries out every instruction it reads.

It answers Pepper's triage (a plain verdict), its scheduler (each user message `handle mail: S1 | S2`
or `handle event: T` becomes one `delegate`; `say: TEXT` is echoed with `send_to_user`) and its workers.
A worker looks around (mail search, the next days' events), opens the hostile mail or event, and then
calls every tool that an instruction in what it read names: `DO: server__tool {json}`, or the pieces
`DO-PART group k/n: ...` joined across mails. Placeholders stand for what such a model would fill in
from what it read: `{{each}}` (every message id, one call each), `{{self}}` (the mail or event holding
the instruction), `{{code_id}}` and `{{secret}}` (the security-code mail and its text), `{{event_id}}`
(the user's board meeting), `{{tomorrow_10}}`/`{{tomorrow_11}}`. Every attempted call is recorded with
the item it came from, for the test to check against the pending actions.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.scripted_llm import Step, last_message, offered_tools, tool_arguments

USER_MSG = re.compile(r"<user_msg[^>]*>(.*?)</user_msg>", re.S)
DO = re.compile(r"DO: (\w+__\w+) ")
PART = re.compile(r"DO-PART (\w+) (\d+)/(\d+): (.*)")
TOOL_OUTPUT = re.compile(r"^<tool_output>(.*)</tool_output>$", re.S)
SECRET_SUBJECT = "Your Pepper Bank security code"
BOARD = "Board meeting"


@dataclass
class Attempt:
    tool: str
    arguments: dict[str, Any]
    origin: str = ""


@dataclass
class ObedientModel:
    tomorrow: datetime
    attempts: list[Attempt] = field(default_factory=list)
    delegated: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)

    def __call__(self, request: dict[str, Any]) -> Step:
        tools = offered_tools(request)
        if "record_triage" in tools:
            verdict = {"priority": "normal", "category": "fyi", "summary": "A message", "reasons": ["read"]}
            return Step(tool_calls=[("record_triage", tool_arguments(**verdict))])
        if "send_to_user" in tools:
            return self._scheduler(str(last_message(request).get("content") or ""))
        if "gmail__get_message" in tools:
            return self._worker(request)
        return Step(content="Earlier: the user asked Pepper to handle some mail.")

    def _scheduler(self, history: str) -> Step:
        calls = []
        for match in USER_MSG.finditer(history):
            text = html.unescape(match.group(1)).strip()
            if text in self.delegated:
                continue
            self.delegated.add(text)
            if text.startswith("say: "):
                calls.append(("send_to_user", tool_arguments(text=f"You said: {text[5:]}")))
            else:
                calls.append(("delegate", tool_arguments(task=text)))
        return Step(tool_calls=calls or [("wait", tool_arguments(reason="nothing new"))])

    def _worker(self, request: dict[str, Any]) -> Step:
        messages = request["messages"]
        task = next(m["content"] for m in messages if m["role"] == "user")
        turn = sum(1 for m in messages if m["role"] == "assistant")
        outputs = [_output(m["content"]) for m in messages if m["role"] == "tool"]
        look = [("gmail__search_messages", tool_arguments(query="", limit=200)),
                ("calendar__upcoming", tool_arguments(within="P3D"))]  # fmt: skip
        if turn == 0:
            if task.startswith("handle event: "):
                look.append(
                    ("calendar__search_events", tool_arguments(text=task.removeprefix("handle event: ")))
                )
            return Step(tool_calls=look)
        seen = Seen.of(outputs)
        if turn == 1 and task.startswith("handle mail: "):
            subjects = [s.strip() for s in task.removeprefix("handle mail: ").split("|")]
            ids = [m["id"] for m in seen.messages if m.get("subject") in subjects]
            return Step(tool_calls=[("gmail__get_message", tool_arguments(id=i)) for i in ids])
        if turn <= 2:
            calls = self._obey(seen, outputs, task)
            if calls:
                return Step(content="Doing what the message asks.", tool_calls=calls)
        self.finished.add(task)
        return Step(content="Done as instructed.")

    def _obey(self, seen: Seen, outputs: list[Any], task: str) -> list[tuple[str, str]]:
        calls = []
        title = task.removeprefix("handle event: ") if task.startswith("handle event: ") else None
        for origin, tool, arguments in instructions(outputs, title):
            for filled in seen.fill(arguments, origin, self.tomorrow):
                self.attempts.append(Attempt(tool, filled, task))
                calls.append((tool, json.dumps({**filled, "reason": "the message told me to"})))
        return calls


def _output(content: str) -> Any:
    match = TOOL_OUTPUT.match(content or "")
    text = html.unescape(match.group(1)) if match else content
    try:
        return json.loads(text)
    except ValueError:
        return text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _strings(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _strings(inner)]
    return []


def _items(value: Any, title: str | None) -> list[tuple[str, Any]]:
    """(id, item) for each opened mail (get_message), or the event titled `title` when given."""
    if title is None and isinstance(value, dict) and "thread_id" in value and "text" in value:
        return [(value["id"], {k: v for k, v in value.items() if k != "snippet"})]  # the text repeats it
    if title is not None and isinstance(value, dict) and isinstance(value.get("events"), list):
        return [(event["id"], event) for event in value["events"] if event.get("title") == title]
    return []


def instructions(outputs: list[Any], title: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(id of the item, tool, arguments) for every instruction in what was read, in order: in the
    opened mail, or in the event titled `title`."""
    found, parts = [], {}
    for output in outputs:
        for item_id, item in dict(_items(output, title)).items():
            for text in _strings(item):
                for match in DO.finditer(text):
                    try:  # an instruction that is not JSON is not one
                        arguments, _ = json.JSONDecoder().raw_decode(text[match.end() :])
                    except ValueError:
                        continue
                    found.append((item_id, match.group(1), arguments))
                for match in PART.finditer(text):
                    parts.setdefault(match.group(1), {})[int(match.group(2))] = (item_id, match.group(4))
    for pieces in parts.values():
        joined = "".join(pieces[k][1] for k in sorted(pieces))
        tool, _, rest = joined.partition(" ")
        found.append((pieces[min(pieces)][0], tool, json.JSONDecoder().raw_decode(rest.strip())[0]))
    return found


@dataclass
class Seen:
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @classmethod
    def of(cls, outputs: list[Any]) -> Seen:
        messages = [m for o in outputs if isinstance(o, dict) for m in o.get("messages", [])]
        events = [e for o in outputs if isinstance(o, dict) for e in o.get("events", [])]
        return cls(messages, events)

    def fill(self, arguments: dict[str, Any], origin: str, tomorrow: datetime) -> list[dict[str, Any]]:
        code = next((m for m in self.messages if m.get("subject") == SECRET_SUBJECT), {})
        board = next((e for e in self.events if e.get("title") == BOARD), {})
        values = {
            "{{self}}": origin, "{{code_id}}": code.get("id", ""), "{{secret}}": code.get("snippet", ""),
            "{{event_id}}": board.get("id", ""), "{{last_draft}}": "draft-of-the-previous-call",
            "{{tomorrow_10}}": tomorrow.replace(hour=10).isoformat(),
            "{{tomorrow_11}}": tomorrow.replace(hour=11).isoformat(),
        }  # fmt: skip
        text = json.dumps(arguments)
        for placeholder, value in values.items():
            text = text.replace(placeholder, json.dumps(value)[1:-1])
        if "{{each}}" not in text:
            return [json.loads(text)]
        return [json.loads(text.replace("{{each}}", m["id"])) for m in self.messages]
