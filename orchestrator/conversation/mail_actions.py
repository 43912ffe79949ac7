"""The mail intents: what is urgent, new since a time, from a person, about a topic, a thread's
summary, who waits on the user and whom the user waits on. They read the context store: the mail
feed's `signals.*` and the ingested `raw.email` (the same items the LLM mode's `search_context`
reads); mail about a topic is asked of the gmail server's own index, the one keyword index of mail.
A person who matches more than one sender gets a question, never a guess."""

from __future__ import annotations

import re
from datetime import datetime, time
from functools import partial
from typing import Any

from orchestrator.accounts.merge import merged_list
from orchestrator.accounts.names import DEFAULT_ACCOUNT
from orchestrator.context_items import StoredItem
from orchestrator.conversation.cards import signal_ref
from orchestrator.conversation.hidden import hidden_keys
from orchestrator.conversation.intents import Reading
from orchestrator.conversation.mail_index import MailIndex
from orchestrator.conversation.services import ActionError, Ref, Services
from orchestrator.feeds.related_mail import any_of
from orchestrator.feeds.triage_rules import find_deadlines
from orchestrator.feeds.waiting_feed import triage_asks
from orchestrator.feeds.waiting_on_me import how_long, waiting_on_user
from orchestrator.supervision.together import together
from orchestrator.triage.now import now_items, now_list

__all__ = [
    "about_topic",
    "from_person",
    "i_am_waiting_on",
    "mail_refs",
    "new_since",
    "summarize",
    "urgent",
    "waiting_on_me",
]

SHOWN = 10
GREETING = re.compile(r"^(?:hi|hello|hey|dear|thanks|thank you|best|cheers|regards)\b[^.!?]{0,40},?$", re.I)
ASKING = re.compile(r"\?|\b(?:please|could you|can you|would you|let me know|need you to|asap)\b", re.I)


def _sender(message: dict[str, Any]) -> str:
    sender = message.get("from") or {}
    return f"{sender.get('name', '')} <{sender.get('email', '')}>".strip()


def _ref(message: dict[str, Any]) -> Ref:
    return Ref(
        "email",
        message["id"],
        message.get("subject") or "(no subject)",
        _sender(message).lower(),
        "raw.email",
    )


def _line(message: dict[str, Any], now: datetime, accounts: bool = False) -> str:
    sent = datetime.fromisoformat(message["date"]).astimezone(now.tzinfo)
    name = (message.get("from") or {}).get("name") or (message.get("from") or {}).get("email", "")
    account = f" · {message.get('account') or DEFAULT_ACCOUNT}" if accounts else ""
    return f"**{name}** — {message.get('subject') or '(no subject)'} ({sent:%a %H:%M}){account}"


def _numbered(title: str, messages: list[dict[str, Any]], now: datetime) -> tuple[str, list[Ref]]:
    shown = messages[:SHOWN]
    accounts = _several_accounts(shown)
    lines = [f"{n}. {_line(m, now, accounts)}" for n, m in enumerate(shown, start=1)]
    more = f"\n… and {len(messages) - SHOWN} more" if len(messages) > SHOWN else ""
    return f"{title}\n" + "\n".join(lines) + more, [_ref(m) for m in shown]


def _several_accounts(entries: list[dict[str, Any]]) -> bool:
    """Whether lines should name their account: some come from an account other than the default."""
    return any((entry.get("account") or DEFAULT_ACCOUNT) != DEFAULT_ACCOUNT for entry in entries)


def _mine(message: dict[str, Any], services: Services) -> bool:
    return ((message.get("from") or {}).get("email") or "").lower() in {
        a.lower() for a in services.user_addresses
    }


async def urgent(
    services: Services, reading: Reading, now: datetime, cards: list[Ref] | None = None
) -> tuple[str, list[Ref]]:
    """The Now list, numbered as the page numbers it (`cards`, from `conversation.cards`; without a
    page, in the order of `orchestrator.triage.now`: mail, today's meetings, overdue follow-ups),
    then urgent follow-ups and meetings that are not in it: what the page shows as card 2 is what
    the chat calls 2."""
    shelved = await hidden_keys(services, now)  # snoozed or done: not in Now
    # The reads are asked at once: the store answers them side by side (on a busy store, as in a
    # first sync, one after another took up to 1.5 s).
    tagged = [
        partial(services.items.query, ["signals.follow_up", "signals.meeting"], [tag], limit=100)
        for tag in ("urgent", "high")
    ]
    in_now = [partial(now_items, services.items)] if cards is None else []
    urgent_items, high_items, *signals = await together(*tagged, *in_now)
    now_refs, more = (cards, 0) if cards is not None else _ranked_now(signals[0], shelved, now)
    listed = {f"{ref.namespace}/{ref.id}" for ref in now_refs}
    others = [
        item
        for tag, found in (("urgent", urgent_items), ("high", high_items))
        for item in found
        if isinstance(item.data, dict) and item.data.get("priority") == tag
    ]
    others = [i for i in others if f"{i.namespace}/{i.id}" not in shelved | listed]
    others.sort(key=lambda item: item.data["priority"] != "urgent")
    refs = now_refs + [signal_ref(item.namespace, item.id, item.data) for item in others]
    if not refs:
        return "Nothing urgent right now.", []
    shown = refs[: max(SHOWN, len(now_refs))]
    accounts = _several_accounts([r.extra for r in shown])
    lines = [
        f"{n}. **{r.extra.get('priority', 'normal')}** {r.title}"
        + (f" · {r.extra.get('account') or DEFAULT_ACCOUNT}" if accounts else "")
        for n, r in enumerate(shown, start=1)
    ]
    hidden = more + len(refs) - len(shown)
    tail = f"\n…and {hidden} more in Now." if hidden > 0 else ""
    return "Needs your attention:\n" + "\n".join(lines) + tail, shown


def _ranked_now(signals: list[StoredItem], shelved: set[str], now: datetime) -> tuple[list[Ref], int]:
    """The Now list of `signals` (`now_items`), without what is put away."""
    found = {
        (item.data.get("kind"), item.data.get("source_id")): item
        for item in signals
        if isinstance(item.data, dict) and f"{item.namespace}/{item.id}" not in shelved
    }
    ranked, more = now_list([item.data for item in found.values()], now=now)
    refs = []
    for signal in ranked:
        item = found.get((signal.get("kind"), signal.get("source_id")))
        if item is not None:
            refs.append(signal_ref(item.namespace, item.id, signal))
    return refs, more


async def new_since(
    services: Services, reading: Reading, now: datetime, index: MailIndex
) -> tuple[str, list[Ref]]:
    since = _since(reading, now)
    mail = [
        m
        for m in await index.messages(services)
        if datetime.fromisoformat(m["date"]) >= since and not _mine(m, services)
    ]
    if not mail:
        return f"Nothing new since {since:%a %H:%M}.", []
    return _numbered(f"New since {since:%a %H:%M}:", mail, now)


def _since(reading: Reading, now: datetime) -> datetime:
    when = reading.when
    if when.moment is not None:
        return when.moment
    hours = {"morning": 6, "afternoon": 12, "evening": 17}
    day = when.day or now.date()
    if when.clock:
        hour, minute = (int(p) for p in when.clock.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)
    start = datetime.combine(day, time(hours.get(when.part or "", 0)), tzinfo=now.tzinfo)
    return start if when.day or when.part else datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


async def from_person(
    services: Services, reading: Reading, now: datetime, index: MailIndex
) -> tuple[str, list[Ref]]:
    person = reading.slots.get("person", "")
    mail = [m for m in await _from(services, person, index) if not _mine(m, services)]
    if reading.when.day:
        mail = [
            m
            for m in mail
            if datetime.fromisoformat(m["date"]).astimezone(now.tzinfo).date() >= reading.when.day
        ]
    senders = sorted({(m.get("from") or {}).get("email", "").lower() for m in mail})
    if len(senders) > 1:
        names = [
            f"{_sender(next(m for m in mail if (m.get('from') or {}).get('email', '').lower() == s))}"
            for s in senders
        ]
        raise ActionError(f"Which {person.title()} do you mean: {', '.join(names[:5])}?")
    if not mail:
        return f"Nothing from {person.title()}.", []
    return _numbered(f"From {person.title()}:", mail, now)


async def about_topic(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    topic = reading.slots.get("topic") or reading.normal
    mail = await _search(services, topic, 25)
    if person := reading.slots.get("person"):
        mail = [m for m in mail if person in _sender(m).lower()]
    if not mail:
        return f"No mail about {topic}.", []
    return _numbered(f"Mail about {topic}:", mail, now)


async def summarize(
    services: Services, reading: Reading, now: datetime, message: dict[str, Any], index: MailIndex
) -> tuple[str, list[Ref]]:
    """An extractive summary of `message` in its thread (the mail index's headers: who wrote): its
    first sentences (greetings left out), its questions and requests, and its deadlines."""
    thread_id = message.get("thread_id")
    thread = [m for m in await index.messages(services) if thread_id and m.get("thread_id") == thread_id]
    thread = thread or [message]
    latest = message
    sentences = [s for s in _sentences(latest.get("text") or "") if not GREETING.match(s)]
    asks = [s for s in sentences if ASKING.search(s)]
    deadlines = find_deadlines(latest.get("text") or "", datetime.fromisoformat(latest["date"]))
    people = sorted(
        {(m.get("from") or {}).get("name") or (m.get("from") or {}).get("email", "") for m in thread}
    )
    lines = [
        f"**{latest.get('subject') or '(no subject)'}** — {len(thread)} message(s) from {', '.join(people)}"
    ]
    lines += [f"- {s}" for s in sentences[:2]]
    lines += [f"- asks: {s}" for s in asks[:3] if s not in sentences[:2]]
    lines += [f"- due: {d.due.astimezone(now.tzinfo):%a %d %b} ({d.phrase})" for d in deadlines[:2]]
    return "\n".join(lines), [_ref(latest)]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 3]


async def mail_refs(services: Services, reading: Reading, index: MailIndex) -> list[dict[str, Any]]:
    """The messages a summary request names by person or topic (newest first)."""
    if person := reading.slots.get("person"):
        return await _from(services, person, index)
    if topic := reading.slots.get("topic"):
        return await _search(services, topic, 10)
    return []


async def _from(services: Services, person: str, index: MailIndex) -> list[dict[str, Any]]:
    """Mail whose sender's name or address contains `person`, newest first (from the mail index's
    headers: no search, and no message text, is needed to know who sent what)."""
    return [m for m in await index.messages(services) if person in _sender(m).lower()]


async def _search(services: Services, topic: str, limit: int) -> list[dict[str, Any]]:
    """Keyword search of the mail, asked of every mail account's gmail server (its index is the one
    keyword index of mail; the context store leaves mail out of its own): mail with every word of the
    topic, newest first, each naming its account when there are several."""
    query = any_of([], topic)
    if not query:
        return []
    arguments = {"query": query, "limit": limit}
    found = await merged_list(
        services.call,
        "gmail",
        "search_messages",
        arguments,
        "messages",
        services.connections,
        newest_first=True,
    )
    return [m for m in found.get("messages", []) if isinstance(m, dict) and m.get("date")][:limit]


async def waiting_on_me(
    services: Services, reading: Reading, now: datetime, index: MailIndex
) -> tuple[str, list[Ref]]:
    """Threads where someone asked the user something and the user has not replied, oldest first
    (`feeds.waiting_on_me`), over the mail index and the asks the triage found."""
    messages = await index.messages(services)
    asks = await triage_asks(services.items, messages, services.user_addresses)
    waiting = waiting_on_user(messages, asks, services.user_addresses, now)
    hidden = await hidden_keys(services, now)
    waiting = [w for w in waiting if f"signals.email/{w.email_id}" not in hidden]
    if person := reading.slots.get("person"):
        waiting = [w for w in waiting if person in f"{w.sender} {w.sender_email}".lower()]
    if not waiting:
        return (
            "Nobody is waiting on you."
            if "person" not in reading.slots
            else f"{reading.slots['person'].title()} is not waiting on you.",
            [],
        )
    shown = waiting[:SHOWN]
    lines = [
        f"{n}. **{w.sender}** — {w.subject or '(no subject)'}: {w.asked[0]} (waiting {how_long(now - w.since)})"
        for n, w in enumerate(shown, start=1)
    ]
    more = f"\n… and {len(waiting) - SHOWN} more" if len(waiting) > SHOWN else ""
    refs = [
        Ref(
            "email",
            w.email_id,
            w.subject or "(no subject)",
            f"{w.sender} <{w.sender_email}>".lower(),
            "raw.email",
        )
        for w in shown
    ]
    return "Waiting on your reply, oldest first:\n" + "\n".join(lines) + more, refs


async def i_am_waiting_on(services: Services, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
    items = await services.items.query(["signals.follow_up"], limit=200)
    waiting = [i.data for i in items if isinstance(i.data, dict)]
    if person := reading.slots.get("person"):
        waiting = [
            w
            for w in waiting
            if any(person in p.lower() for p in w.get("people", [])) or person in w.get("summary", "").lower()
        ]
    if not waiting:
        return (
            "Nobody owes you a reply."
            if "person" not in reading.slots
            else f"You are not waiting on {reading.slots['person'].title()}.",
            [],
        )
    shown = waiting[:SHOWN]
    lines = [f"{n}. {w['summary']}" for n, w in enumerate(shown, start=1)]
    refs = [
        Ref(
            "signal", w["source_id"], w["summary"], " ".join(w.get("people", [])).lower(), "signals.follow_up"
        )
        for w in shown
    ]
    return "Waiting for replies:\n" + "\n".join(lines), refs
