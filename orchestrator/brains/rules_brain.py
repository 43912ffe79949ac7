"""`RulesBrain`: the scheduler's decisions with no language model (rules mode).

Signals of high or urgent priority and due reminders become notifications. Chat understands a small,
documented set of requests and answers them by direct retrieval from the context store:

- "what is urgent?" (also: important, priorities): the open high and urgent signals;
- "today's meetings" (also: meetings, calendar, agenda): the meeting signals of today, with briefs;
- "follow-ups" (also: waiting, awaiting replies): sent mail still waiting for an answer;
- "search <words>" (also: find, look for): the best matches in mail and calendar;
- "help": this list.

A request that needs retrieval starts a `search_context` call; its result arrives in a later step and
is turned into the reply then, so the chat never blocks on the store.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent
from orchestrator.scheduler.loop import Decision, ProposedCall, StepInput

__all__ = ["HELP", "RulesBrain"]

HELP = (
    "Pepper is in rules mode (no language model configured), so I answer these requests:\n"
    "- **what is urgent?** — open urgent and high-priority items\n"
    "- **today's meetings** — today's meetings with their briefs\n"
    "- **follow-ups** — mail you sent that is still waiting for a reply\n"
    "- **search** *words* — find mail and events\n"
    "- **pending**, **approve** *id*, **reject** *id* — what waits for your approval\n"
    "- **profile** — what I know about you; **my name is** *name*, **my role is** *role*,"
    " **add vip** / **remove vip** *address*, **add project** / **remove project** *name*,"
    " **rename project** *old* **to** *new*, **remember that** *fact*, **forget** *words*\n"
    "Set `OPENAI_BASE_URL` (and `OPENAI_API_KEY`) for free-form chat."
)
INTENTS: list[tuple[str, re.Pattern[str]]] = [
    ("help", re.compile(r"^\s*(help|\?|what can you do)", re.I)),
    (
        "search",
        re.compile(
            r"^\s*(?:search|find|look (?:up|for))\s+(?:(?:my|in)\s+)?(?:e?mails?\s+|messages\s+)?(?:for\s+|about\s+)?(?P<q>.+)",
            re.I,
        ),
    ),
    ("follow_ups", re.compile(r"follow.?ups?|waiting|awaiting|no reply|replies", re.I)),
    ("meetings", re.compile(r"meeting|calendar|agenda|schedule", re.I)),
    ("urgent", re.compile(r"urgent|important|priorit|attention", re.I)),
]
RETRIEVALS: dict[str, dict[str, Any]] = {
    "urgent": {"namespaces": ["signals.*"], "any_tags": ["urgent", "high"], "limit": 50},
    "meetings": {"namespaces": ["signals.meeting"], "limit": 50},
    "follow_ups": {"namespaces": ["signals.follow_up"], "limit": 50},
}


class RulesBrain:
    def __init__(self, now: Any = lambda: datetime.now(UTC)) -> None:
        self._awaiting: dict[str, str] = {}
        self._now = now

    async def decide(self, step: StepInput) -> Decision:
        replies: list[str] = []
        calls: list[ProposedCall] = []
        for event in step.batch:
            if event.kind is EventKind.USER_MESSAGE:
                self._answer(event.content, replies, calls)
            elif event.kind is EventKind.TOOL_RESULT and event.attributes.get("id") in self._awaiting:
                intent = self._awaiting.pop(str(event.attributes["id"]))
                replies.append(self._format(intent, event))
            elif _worth_notifying(event):
                calls.append(_notify(event))
        return Decision(reply="\n\n".join(replies) or None, calls=calls)

    def _answer(self, text: str, replies: list[str], calls: list[ProposedCall]) -> None:
        intent, match = next(
            ((name, m) for name, pattern in INTENTS if (m := pattern.search(text))), ("help", None)
        )
        if intent == "help":
            replies.append(HELP)
            return
        arguments = dict(RETRIEVALS.get(intent, {}))
        if intent == "search" and match is not None:
            arguments = {
                "query": match.group("q").strip(" ?."),
                "namespaces": ["raw.email", "raw.calendar"],
                "limit": 10,
            }
        call = ProposedCall(id=f"rules-{uuid.uuid4().hex[:10]}", name="search_context", arguments=arguments)
        self._awaiting[call.id] = intent
        calls.append(call)

    def _format(self, intent: str, event: SchedulerEvent) -> str:
        if not event.attributes.get("ok", True):
            return f"I could not look that up: {event.content}"
        items = [json.loads(line) for line in event.content.splitlines() if line.startswith("{")]
        return FORMATTERS[intent](items, self._now())


def _worth_notifying(event: SchedulerEvent) -> bool:
    """High and urgent signals; not reminders, which the notify server itself already delivered."""
    return event.kind is EventKind.SIGNAL and event.source != "reminder" and event.priority <= Priority.HIGH


def _notify(event: SchedulerEvent) -> ProposedCall:
    arguments = {
        "title": event.content[:200],
        "body": "; ".join(event.attributes.get("reasons", [])),
        "priority": event.priority.name.lower(),
    }
    if link := event.attributes.get("link"):
        arguments["link"] = link
    return ProposedCall(
        id=f"notify-{event.attributes.get('id', uuid.uuid4().hex)}", name="notify", arguments=arguments
    )


def _urgent(items: list[dict[str, Any]], now: datetime) -> str:
    signals = [
        i["data"]
        for i in items
        if isinstance(i.get("data"), dict) and i["data"].get("priority") in ("urgent", "high")
    ]
    if not signals:
        return "Nothing urgent right now."
    signals.sort(key=lambda s: (s["priority"] != "urgent", s.get("summary", "")))
    lines = [f"- **{s['priority']}** {s['summary']}" for s in signals[:15]]
    return "Needs your attention:\n" + "\n".join(lines)


def _meetings(items: list[dict[str, Any]], now: datetime) -> str:
    today = now.date()
    meetings = [i["data"] for i in items if isinstance(i.get("data"), dict) and i["data"].get("starts_at")]
    todays = sorted(
        (
            m
            for m in meetings
            if datetime.fromisoformat(m["starts_at"]).astimezone(now.tzinfo).date() == today
        ),
        key=lambda m: m["starts_at"],
    )
    if not todays:
        return "No meetings today."
    lines = []
    for meeting in todays:
        start = datetime.fromisoformat(meeting["starts_at"]).astimezone(now.tzinfo)
        brief = (meeting.get("brief") or "").splitlines()
        lines.append(f"- **{start:%H:%M}** {meeting['summary']}" + (f" — {brief[0]}" if brief else ""))
    return "Today's meetings:\n" + "\n".join(lines)


def _follow_ups(items: list[dict[str, Any]], now: datetime) -> str:
    waiting = [i["data"] for i in items if isinstance(i.get("data"), dict)]
    if not waiting:
        return "Nobody owes you a reply."
    return "Waiting for replies:\n" + "\n".join(f"- {w['summary']}" for w in waiting[:15])


def _search(items: list[dict[str, Any]], now: datetime) -> str:
    if not items:
        return "No matches."
    return "Found:\n" + "\n".join(
        f"- {(i.get('text') or '').splitlines()[0][:160] if i.get('text') else i.get('id')}" for i in items
    )


FORMATTERS = {"urgent": _urgent, "meetings": _meetings, "follow_ups": _follow_ups, "search": _search}
