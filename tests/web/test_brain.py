"""The scripted model's rules (`tests/web/brain.py`) over real HTTP, through the OpenAI client: the
script's own steps come first, then the responder answers the scheduler, the worker and the rest."""

from __future__ import annotations

import json

import openai
import pytest

from tests.support.scripted_llm import Step, scripted_llm_server
from tests.web.brain import ScriptedPepperModel, echo

SCHEDULER_TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {}}} for n in ("send_to_user", "wait")
]
WORKER_TOOLS = [{"type": "function", "function": {"name": "gmail__reply", "parameters": {}}}]


def complete(base_url: str, content: str, tools: list | None = None, messages: list | None = None):
    client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0)
    try:
        return client.chat.completions.create(
            model="scripted",
            messages=messages or [{"role": "user", "content": content}],
            tools=tools or openai.omit,
        )
    finally:
        client.close()


@pytest.mark.slow
def test_responder_answers_once_the_script_is_used_up() -> None:
    with scripted_llm_server(Step(content="scripted first"), responder=ScriptedPepperModel()) as llm:
        first = complete(llm.base_url, "<user_msg>hi</user_msg>", SCHEDULER_TOOLS)
        second = complete(llm.base_url, "<user_msg>hi &amp; bye</user_msg>", SCHEDULER_TOOLS)
    assert first.choices[0].message.content == "scripted first"
    call = second.choices[0].message.tool_calls[0].function
    assert (call.name, json.loads(call.arguments)) == ("send_to_user", {"text": echo("hi & bye")})
    assert len(llm.requests) == 2


@pytest.mark.slow
def test_server_without_responder_still_fails_when_the_script_runs_out() -> None:
    with scripted_llm_server() as llm, pytest.raises(openai.InternalServerError):
        complete(llm.base_url, "anything")


def test_scheduler_waits_when_the_last_user_message_was_answered() -> None:
    history = "<user_msg>hi</user_msg>\n<assistant>hello</assistant>\n<event>new mail</event>"
    step = ScriptedPepperModel()(
        {"messages": [{"role": "user", "content": history}], "tools": SCHEDULER_TOOLS}
    )
    assert [name for name, _ in step.tool_calls] == ["wait"]


def test_urgent_signals_are_notified_once() -> None:
    model = ScriptedPepperModel()
    event = '<event type="signal" priority="urgent" source="email" id="m1" link="gmail://message/m1">Due &amp; now</event>'
    request = {"messages": [{"role": "user", "content": event}], "tools": SCHEDULER_TOOLS}
    first, second = model(request), model(request)
    name, arguments = first.tool_calls[0]
    assert name == "notify"
    assert json.loads(arguments) == {"title": "Due & now", "priority": "urgent", "link": "gmail://message/m1"}
    assert [name for name, _ in second.tool_calls] == ["wait"]


def test_draft_request_is_delegated_and_the_worker_calls_reply() -> None:
    respond = ScriptedPepperModel()
    history = "<user_msg>Please reply to message abc.M1: Sounds good.</user_msg>"
    step = respond({"messages": [{"role": "user", "content": history}], "tools": SCHEDULER_TOOLS})
    delegate = dict(step.tool_calls)["delegate"]
    task = json.loads(delegate)["task"]
    worker = respond({"messages": [{"role": "user", "content": task}], "tools": WORKER_TOOLS})
    assert worker.tool_calls == [("gmail__reply", json.dumps({"id": "abc.M1", "body": "Sounds good."}))]
    done = respond(
        {
            "messages": [{"role": "user", "content": task}, {"role": "tool", "content": "queued"}],
            "tools": WORKER_TOOLS,
        }
    )
    assert done.tool_calls == [] and "approval" in (done.content or "")


def test_forward_request_reads_the_mail_then_sends_it_on_the_same_way_every_time() -> None:
    respond = ScriptedPepperModel()
    history = "<user_msg>Please forward message abc.M1 to eve@evil.example</user_msg>"
    step = respond({"messages": [{"role": "user", "content": history}], "tools": SCHEDULER_TOOLS})
    task = json.loads(dict(step.tool_calls)["delegate"])["task"]
    assert task == "Forward message abc.M1 to eve@evil.example"
    first = respond({"messages": [{"role": "user", "content": task}], "tools": WORKER_TOOLS})
    assert first.tool_calls == [("gmail__get_message", json.dumps({"id": "abc.M1"}))]
    mail = '<tool_output>{"subject": "Reset &amp; verify", "text": "Send this on"}</tool_output>'
    read = {
        "messages": [{"role": "user", "content": task}, {"role": "tool", "content": mail}],
        "tools": WORKER_TOOLS,
    }
    sends = [respond(read).tool_calls, respond(read).tool_calls]
    assert sends[0] == sends[1]
    name, arguments = sends[0][0]
    sent = json.loads(arguments)
    assert name == "gmail__send_message" and sent["reason"]
    assert sent["message"] == {
        "to": ["eve@evil.example"],
        "subject": "Fwd: Reset & verify",
        "body": "Send this on",
    }


def test_question_about_a_message_is_answered_from_its_signal_event() -> None:
    respond = ScriptedPepperModel()
    event = '<event type="signal" priority="normal" source="email" id="s1" link="gmail://message/m1">Hi &amp; [x](https://e.example)</event>'
    for history, answer in (
        (
            f"{event}\n<user_msg>What is message m1 about?</user_msg>",
            "Message m1 is about: Hi & [x](https://e.example)",
        ),
        ("<user_msg>What is message m2 about?</user_msg>", "I have not seen message m2."),
    ):
        step = respond({"messages": [{"role": "user", "content": history}], "tools": SCHEDULER_TOOLS})
        assert step.tool_calls == [("send_to_user", json.dumps({"text": answer}))]
