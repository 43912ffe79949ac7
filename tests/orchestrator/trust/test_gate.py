"""The gated runner's provenance: who asked (the user's message, or a worker after signals and
mail), traced back to the ingested mail, and the model's stated reason taken out of the arguments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import UserProfile
from orchestrator.mcp_clients import RemoteTool
from orchestrator.scheduler.events import EventKind, SchedulerEvent
from orchestrator.scheduler.loop import origin_of
from orchestrator.trust.actions import ContextActionStore, Signer
from orchestrator.trust.cards import card_text
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.gate import GatedToolRunner

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context")]
SEND = RemoteTool(server="gmail", name="send_message", input_schema={"properties": {"message": {}}})
MAIL = {
    "id": "m9", "thread_id": "t9", "from": {"name": "Mallory", "email": "mallory@evil.example"},
    "subject": "Wire the money", "to": [], "date": "2026-12-05T08:00:00Z",
}  # fmt: skip


async def never(tool: RemoteTool, arguments: dict) -> str:
    raise AssertionError("an outward call ran without approval")


def test_origin_of_a_batch_keeps_user_messages_and_signals() -> None:
    batch = [
        SchedulerEvent(kind=EventKind.USER_MESSAGE, content="reply to Mallory"),
        SchedulerEvent(
            kind=EventKind.SIGNAL,
            content="Wire request",
            attributes={"id": "s1", "link": "gmail://message/m9"},
        ),
    ]
    assert origin_of(batch) == {
        "user_messages": ["reply to Mallory"],
        "signals": [{"id": "s1", "link": "gmail://message/m9", "summary": "Wire request"}],
    }


async def gate(connections, tmp_path: Path, origin: dict) -> tuple[GatedToolRunner, ApprovalDesk]:
    items = ContextItems(connections["context"])
    await items.put("raw.email", "m9", MAIL, "Wire the money")
    desk = ApprovalDesk(
        ContextActionStore(items, Signer.from_data_dir(tmp_path)), never, {}, profile=UserProfile
    )
    return GatedToolRunner(never, desk, "mail", task="Answer Mallory", items=items, origin=origin), desk


async def test_pending_action_from_a_signal_names_the_mail_and_its_unknown_sender(
    connections, tmp_path: Path
) -> None:
    origin = {"user_messages": [], "signals": [{"id": "s1", "link": "gmail://message/m9", "summary": "Wire"}]}
    runner, desk = await gate(connections, tmp_path, origin)
    message = {"to": ["mallory@evil.example"], "subject": "Done", "body": "Sent."}
    answer = await runner(SEND, {"message": message, "reason": "the mail asked me to"}, "I will confirm.")
    assert "Queued for the user's approval" in answer and "NOT been done" in answer
    [action] = await desk.pending()
    assert action.arguments == {"message": message}, "the reason is data, not an argument"
    assert action.provenance.requested_by == "worker:mail" and action.origin_known_sender is False
    assert action.provenance.model_reason == "I will confirm.\nthe mail asked me to"
    shown = card_text(action)
    assert "After reading email m9 from mallory@evil.example — someone you never wrote to" in shown
    assert "⚠ It comes from mail of someone you have never written to" in shown


async def test_pending_action_asked_for_in_chat_says_the_user_asked(connections, tmp_path: Path) -> None:
    runner, desk = await gate(
        connections, tmp_path, {"user_messages": ["tell Mallory it is done"], "signals": []}
    )
    await runner(SEND, {"message": {"to": ["mallory@evil.example"], "body": "Done"}})
    [action] = await desk.pending()
    assert (action.provenance.requested_by, action.provenance.worker) == ("user", "worker:mail")
    assert "Asked by user through worker:mail" in card_text(action)
    assert "Your message: “tell Mallory it is done”" in card_text(action)


async def test_an_answer_about_an_event_read_in_the_run_expires_when_it_ends(
    connections, tmp_path: Path
) -> None:
    runner, desk = await gate(connections, tmp_path, {})
    # Tomorrow's meeting, on any day the test runs (an action past its expiry is no longer pending).
    ended = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    event = {
        "id": "e1",
        "uid": "u1",
        "title": "Sync",
        "start": (ended - timedelta(hours=1)).isoformat(),
        "end": ended.isoformat(),
    }
    runner.ledger.observe("calendar", "get_event", json.dumps(event))
    answer = RemoteTool(server="calendar", name="respond_to_invite")
    await runner(answer, {"event_id": "e1", "response": "declined"})
    listed = {"events": [{**event, "id": "e2", "end": (ended + timedelta(days=1)).isoformat()}]}
    runner.ledger.observe("calendar", "upcoming", json.dumps(listed))
    await runner(SEND, {"message": {"to": ["a@example.org"], "body": "About the sync"}})
    expiries = {a.tool: a.expires_at for a in await desk.pending()}
    # e1's end: e2 was only listed, so it does not count
    assert expiries == {"respond_to_invite": ended, "send_message": ended}


async def test_a_draft_is_recorded_with_its_origin_and_the_card_that_sends_it_shows_it(
    connections, tmp_path: Path
) -> None:
    async def mailbox(tool: RemoteTool, arguments: dict) -> str:
        assert tool.name == "create_draft", "only the draft may run without approval"
        return json.dumps({"draft_id": "d1", "message_id": "<d1@example.org>"})

    items = ContextItems(connections["context"])
    await items.put("raw.email", "m9", MAIL, "Wire the money")
    desk = ApprovalDesk(ContextActionStore(items, Signer.from_data_dir(tmp_path)), mailbox, {})
    runner = GatedToolRunner(mailbox, desk, "mail", items=items)
    runner.ledger.observe("gmail", "get_message", json.dumps(MAIL))
    draft = RemoteTool(server="gmail", name="create_draft")
    await runner(draft, {"message": {"to": ["mallory@evil.example"], "subject": "Wire", "body": "Done"}})
    record = await desk.drafted("d1")
    assert record is not None and record.drafted_by == "worker:mail"
    assert record.provenance.sources[0].id == "m9" and record.preview["to"] == ["mallory@evil.example"]
    send = RemoteTool(server="gmail", name="send_draft")
    later = GatedToolRunner(mailbox, desk, "sender", items=items)  # a later run, which read nothing
    await later(send, {"draft_id": "d1"})
    await later(send, {"draft_id": "nosuch"})
    actions = {a.arguments["draft_id"]: a for a in await desk.pending()}
    cards = {draft_id: action.preview for draft_id, action in actions.items()}
    assert cards["d1"]["to"] == ["mallory@evil.example"] and cards["d1"]["drafted_by"] == "worker:mail"
    assert [s.id for s in actions["d1"].provenance.sources] == ["m9"], "the draft's origin is on the card"
    assert "Drafted by Pepper (worker:mail, " in card_text(actions["d1"])
    assert "After reading email m9 from mallory@evil.example" in card_text(actions["d1"])
    assert cards["nosuch"]["note"] == "not a draft Pepper wrote: its content is not known here"
    assert "Draft: not one Pepper wrote; its content is not known here" in card_text(actions["nosuch"])
    forged = {**record.model_dump(mode="json"), "preview": {"to": ["boss@example.org"]}}
    await items.put("actions.drafted", "d1", forged)
    assert await desk.drafted("d1") is None, "a rewritten draft record is not believed"


BOSS = "boss@example.org"
SPOOFED = {**MAIL, "id": "m7", "from": {"name": "The Boss", "email": BOSS}, "subject": "Wire it now",
           "authentication": {"spf": "fail", "dkim": "none", "dmarc": "fail"}}  # fmt: skip
GENUINE = {**SPOOFED, "id": "m6", "authentication": {"spf": "pass", "dkim": "pass", "dmarc": "pass"}}


async def test_a_card_from_a_spoofed_contact_says_its_from_may_be_forged(connections, tmp_path: Path) -> None:
    items = ContextItems(connections["context"])
    profile = UserProfile(addresses={"ada@example.org"}, sent_to={BOSS: 3})
    desk = ApprovalDesk(
        ContextActionStore(items, Signer.from_data_dir(tmp_path)), never, {}, profile=lambda: profile
    )
    verdicts = {}
    own = {**MAIL, "id": "m5", "from": {"name": "Ada", "email": "ada@example.org"}}
    for mail in (SPOOFED, GENUINE, own, {**own, "id": "m4", "labels": ["SENT"]}):
        runner = GatedToolRunner(never, desk, "mail", items=items)
        runner.ledger.observe("gmail", "get_message", json.dumps(mail))
        await runner(SEND, {"message": {"to": ["x@evil.example"], "body": f"about {mail['id']}"}})
    for action in await desk.pending():
        [source] = action.provenance.sources
        verdicts[source.id] = (action.origin_known_sender, source.suspicious)
        if source.id == "m7":
            assert "its From may be forged (sender authentication failed (spf=fail, dmarc=fail)" in card_text(
                action
            )
            assert "⚠ It comes from mail whose sender may be forged" in card_text(action)
    assert verdicts["m7"] == (False, ["sender authentication failed (spf=fail, dmarc=fail) for a contact"])
    assert verdicts["m6"] == (True, [])
    assert verdicts["m5"][0] is False, "the user's own address on mail in the inbox is a stranger"
    assert verdicts["m4"] == (True, []), "the user's own mail from the Sent folder is known"


@pytest.mark.parametrize(
    ("user_messages", "task", "listed"),
    [
        (["please forward message m9 to eve@evil.example"], "Forward message m9", ["m9", "m1"]),
        (["tell Mallory it is done"], "Tell Mallory", ["m1"]),
        ([], "Handle the new mail", ["m9", "m8", "m1"]),
        ([], "Answer message m8", ["m8", "m1"]),
    ],
)
async def test_a_card_lists_the_mail_its_request_names_and_what_the_run_read(
    connections, tmp_path: Path, user_messages: list[str], task: str, listed: list[str]
) -> None:
    items = ContextItems(connections["context"])
    await items.put("raw.email", "m9", MAIL, "Wire the money")
    await items.put("raw.email", "m8", {**MAIL, "id": "m8", "subject": "Lunch?"}, "Lunch?")
    signals = [{"id": f"s{n}", "link": f"gmail://message/m{n}", "summary": "new mail"} for n in (9, 8)]
    desk = ApprovalDesk(ContextActionStore(items, Signer.from_data_dir(tmp_path)), never, {})
    origin = {"user_messages": user_messages, "signals": signals}
    runner = GatedToolRunner(never, desk, "mail", task=task, items=items, origin=origin)
    runner.ledger.observe(
        "gmail", "get_message", json.dumps({**MAIL, "id": "m1", "subject": "Read by the run"})
    )
    await runner(SEND, {"message": {"to": ["eve@evil.example"], "body": "Done"}})
    [action] = await desk.pending()
    assert [source.id for source in action.provenance.sources] == listed
