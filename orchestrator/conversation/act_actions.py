"""The acting intents: reminders (the notify server's `schedule_reminder`, `list_reminders`,
`cancel_reminder`), the daily digest (`daily_digest`), snoozing, marking read or done a thing Pepper
showed (a card is put away from Now by `hidden`; notify `snooze` / `mark_read`, gmail `mark_read`),
and reply drafts, which go to the approval desk as a pending gmail `reply` like every send."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from orchestrator.accounts.routing import item_route, stored_route
from orchestrator.conversation.dates import When, moment_of
from orchestrator.conversation.hidden import card_key, hide
from orchestrator.conversation.intents import Reading
from orchestrator.conversation.lang import Language
from orchestrator.conversation.services import ActionError, Ref, Services
from orchestrator.mcp_clients import ToolCallFailed
from orchestrator.triage.ranker import CorrectionKind
from orchestrator.triage.read import mark_read
from orchestrator.trust.provenance import Provenance, SourceRef

__all__ = [
    "cancel_reminder",
    "correct",
    "digest",
    "draft_reply",
    "list_reminders",
    "mark",
    "remind",
    "snooze",
]

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAIL_NAMESPACES = ("raw.email", "signals.email")


def _local(value: str | None, now: datetime) -> str:
    if not value:
        return "(not scheduled)"
    moment = datetime.fromisoformat(value).astimezone(now.tzinfo)
    day = (
        "today"
        if moment.date() == now.date()
        else "tomorrow"
        if moment.date() == now.date() + timedelta(days=1)
        else f"{moment:%a %d %b}"
    )
    return f"{day} at {moment:%H:%M}"


async def remind(
    services: Services, reading: Reading, now: datetime, language: Language, about: Ref | None
) -> tuple[str, list[Ref]]:
    moment = moment_of(reading.when, now, language)
    if moment is None:
        raise ActionError(language.questions["remind_when"])
    if moment <= now:
        raise ActionError(f"{moment:%a %H:%M} has already passed: say a later time.")
    message = reading.message or (f"{about.title}" if about else "")
    if about is not None and reading.message:
        message = f"{reading.message} ({about.title})"
    message = message[:1].upper() + message[1:]
    arguments: dict[str, Any] = {"message": message, "at": moment.isoformat()}
    reminder = await services.call("notify", "schedule_reminder", arguments)
    ref = Ref("reminder", reminder["id"], reminder["message"])
    return f"I'll remind you {_local(reminder.get('next_fire_at'), now)}: {reminder['message']}", [ref]


async def _reminders(services: Services) -> list[dict[str, Any]]:
    found = await services.call("notify", "list_reminders", {})
    return [r for r in found.get("reminders", []) if r.get("kind", "reminder") == "reminder"]


async def list_reminders(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    reminders = await _reminders(services)
    if reading.when.day:
        first, last = reading.when.day, reading.when.until or reading.when.day
        reminders = [r for r in reminders if r.get("next_fire_at") and first <= _day(r, now) <= last]
    if not reminders:
        return "No reminders" + (" then." if reading.when.day else " set."), []
    lines = [
        f"{n}. {r['message']} — {_local(r.get('next_fire_at'), now)}"
        for n, r in enumerate(reminders, start=1)
    ]
    refs = [Ref("reminder", r["id"], r["message"]) for r in reminders]
    return "Your reminders:\n" + "\n".join(lines), refs


def _day(reminder: dict[str, Any], now: datetime):
    return datetime.fromisoformat(reminder["next_fire_at"]).astimezone(now.tzinfo).date()


async def cancel_reminder(
    services: Services, reading: Reading, now: datetime, shown: list[Ref]
) -> tuple[str, list[Ref]]:
    reminders = await _reminders(services)
    chosen = _choose_reminders(reminders, reading, now, shown)
    if not chosen:
        raise ActionError("I found no such reminder; say `my reminders` to see them.")
    if len(chosen) > 1 and reading.slots.get("item") != "all":
        names = "; ".join(f"{n}. {r['message']}" for n, r in enumerate(chosen, start=1))
        raise ActionError(f"Which one? {names}")
    for reminder in chosen:
        await services.call("notify", "cancel_reminder", {"reminder_id": reminder["id"]})
    return "Cancelled: " + "; ".join(r["message"] for r in chosen), []


def _choose_reminders(
    reminders: list[dict[str, Any]], reading: Reading, now: datetime, shown: list[Ref]
) -> list[dict[str, Any]]:
    item, topic = reading.slots.get("item"), reading.slots.get("topic")
    listed = [
        r for ref in shown if ref.kind == "reminder" for r in reminders if r["id"] == ref.id
    ] or reminders
    if item == "all":
        return reminders
    if item and item.isdigit():
        index = int(item) - 1
        return [listed[index]] if 0 <= index < len(listed) else []
    if item in ("this", "last"):
        return listed[-1:] if item == "last" or len(listed) == 1 else listed
    if topic:
        return [r for r in reminders if all(word in r["message"].lower() for word in topic.split())]
    if reading.when.day or reading.when.clock:
        return [r for r in reminders if r.get("next_fire_at") and _at(r, reading, now)]
    return []


def _at(reminder: dict[str, Any], reading: Reading, now: datetime) -> bool:
    fires = datetime.fromisoformat(reminder["next_fire_at"]).astimezone(now.tzinfo)
    day, clock = reading.when.day, reading.when.clock
    return (day is None or fires.date() == day) and (clock is None or f"{fires:%H:%M}" == clock)


async def digest(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    schedules = [
        r
        for r in (await services.call("notify", "list_reminders", {})).get("reminders", [])
        if r.get("kind") == "digest"
    ]
    current = (
        f"{datetime.fromisoformat(schedules[0]['next_fire_at']).astimezone(now.tzinfo):%H:%M}"
        if schedules
        else None
    )
    if reading.intent == "digest_time" and reading.when.clock is None:
        return (
            f"Your daily digest comes at {current}."
            if current
            else "No daily digest is set: say `send my digest at 8am`."
        ), []
    if reading.intent == "digest_time":
        await services.call("notify", "daily_digest", {"at": reading.when.clock, **_zone(services, now)})
        return f"Your daily digest now comes at {reading.when.clock}.", []
    clock = current or "08:00"
    result = await services.call(
        "notify", "daily_digest", {"at": clock, "send_now": True, **_zone(services, now)}
    )
    sent = result.get("sent_now") or {}
    count = sent.get("count", sent.get("items")) if isinstance(sent, dict) else None
    return "Digest sent" + (
        f" ({count} items)" if isinstance(count, int) else ""
    ) + f"; the daily one comes at {clock}.", []


def _zone(services: Services, now: datetime) -> dict[str, str]:
    """The user's IANA zone for the notify server, which reads a time of day in it."""
    zone = services.timezone or getattr(now.tzinfo, "key", None)
    return {"timezone": zone} if zone else {}


async def snooze(
    services: Services, reading: Reading, now: datetime, language: Language, refs: list[Ref]
) -> tuple[str, list[Ref]]:
    """Put the cards away from Now until a time (tomorrow morning when none is said); a notification
    or a reminder is snoozed in the notify server, which delivers it again then."""
    when = reading.when if reading.when.found else When(day=now.date() + timedelta(days=1))
    until = moment_of(when, now, language)
    if until is None or until <= now:
        raise ActionError("Say a later time to snooze until, for example: until tomorrow.")
    for ref in refs:
        key = card_key(ref)
        if key is None and ref.kind != "reminder":
            raise ActionError(f"{ref.title!r} is not a card or a notification, so it cannot be snoozed.")
    for ref in refs:
        if ref.kind in ("notification", "reminder"):  # delivered again then by the notify server
            await services.call("notify", "snooze", {"id": ref.id, "until": until.isoformat()})
        if (key := card_key(ref)) is not None:
            await hide(services, key, ref.title, now, until)
    titles = "; ".join(ref.title for ref in refs)
    return f"Snoozed until {_local(until.isoformat(), now)}: {titles}", []


async def mark(services: Services, reading: Reading, now: datetime, refs: list[Ref]) -> tuple[str, list[Ref]]:
    """Mark read (the mail in the gmail server, a notification in the notify server), or done: the
    card leaves Now for good (`hidden`) and its notification, if any, is marked read."""
    done = reading.intent == "mark_done_item"
    for ref in refs:
        key = card_key(ref)
        if ref.kind == "notification":
            await services.call("notify", "mark_read", {"ids": [ref.id]})
            if done and key is not None:
                await hide(services, key, ref.title, now, None)
        elif key is not None and done:
            await hide(services, key, ref.title, now, None)
        elif key is not None and ref.namespace in MAIL_NAMESPACES:
            if services.ranker is None:
                await _mark_in_mailbox(services, ref.id)
            else:  # in the mailbox when it is writable, in Pepper otherwise: Now drops it either way
                await _mark_read(services, ref.id)
        else:
            raise ActionError(
                f"{ref.title!r} is not a mail or a notification, so it cannot be marked {'done' if done else 'read'}."
            )
    titles = "; ".join(ref.title for ref in refs)
    return ("Done, off your Now list: " if done else "Marked read: ") + titles, []


async def _mark_in_mailbox(services: Services, message_id: str) -> None:
    """`mark_read` in the mailbox of the account the stored mail came from."""
    try:
        server, provider = await stored_route(services.items, "gmail", message_id)
    except LookupError as exc:
        raise ActionError(str(exc)) from exc
    await services.call(server, "mark_read", {"id": provider})


async def _mark_read(services: Services, message_id: str) -> None:
    try:
        await mark_read(services.connections, services.items, services.ranker, message_id)
    except LookupError as exc:
        raise ActionError(str(exc)) from exc
    except ToolCallFailed as exc:
        raise ActionError(str(exc)) from exc


def _correction(normal: str, language: Language) -> CorrectionKind:
    """Which correction: the language's patterns for "never" and "not important", else important."""
    kinds: tuple[CorrectionKind, ...] = ("never", "not_important")
    said = {kind: language.corrections.get(kind) for kind in kinds}
    return next((kind for kind, pattern in said.items() if pattern and pattern.search(normal)), "important")


async def correct(
    services: Services, reading: Reading, now: datetime, refs: list[Ref], language: Language
) -> tuple[str, list[Ref]]:
    """Important / not important / never from this sender, about mail shown or a sender's address:
    the ranker learns it at once and Now is ranked again."""
    if services.ranker is None:
        raise ActionError("corrections need the mail feed's ranker, which is not running here")
    kind = _correction(reading.normal, language)
    said = []
    for ref in refs:
        try:
            if ref.kind == "sender":
                message, _ = await services.ranker.correct(kind, now, sender=ref.id)
            elif ref.kind in ("email", "signal") and ref.namespace in MAIL_NAMESPACES:
                message, _ = await services.ranker.correct(kind, now, message_id=ref.id)
            else:
                raise ActionError(f"{ref.title!r} is not a mail, so there is no sender to correct.")
        except (LookupError, ValueError) as exc:
            raise ActionError(str(exc)) from exc
        said.append(message)
    return " ".join(dict.fromkeys(said)), []


async def draft_reply(
    services: Services, reading: Reading, message: dict[str, Any], signer: str
) -> tuple[str, list[Ref]]:
    """A reply from the user's short instruction: greeting, their sentence, sign-off; it waits for
    approval like every send."""
    server, provider = item_route("gmail", str(message["id"]), message)  # out through the account it came to
    if services.desk is None or (server, "reply") not in services.tools:
        raise ActionError(f"replies need the {server} server's reply tool, which is not connected")
    first = ((message.get("from") or {}).get("name") or "").split(" ")[0] or "there"
    sentence = (reading.body or "").strip()
    sentence = sentence[:1].upper() + sentence[1:]
    if sentence and sentence[-1] not in ".!?":
        sentence += "."
    body = f"Hi {first},\n\n{sentence}" + (f"\n\nBest,\n{signer}" if signer else "")
    sender = (message.get("from") or {}).get("email")
    source = SourceRef(
        kind="email", id=str(message["id"]), sender=sender, subject=str(message.get("subject") or "")
    )
    action = await services.desk.request(
        server, "reply", {"id": provider, "body": body},
        Provenance(requested_by="user", user_message=reading.text, sources=[source]),
        reason=f"reply to {message.get('subject') or 'your mail'}",
    )  # fmt: skip
    return (
        f"Draft reply to **{first}** about *{message.get('subject') or '(no subject)'}*:\n\n{body}\n\n"
        f"It waits for your approval: say `approve {action.id}` (or `reject {action.id}`)."
    ), [Ref("action", action.id, f"reply to {first}")]
