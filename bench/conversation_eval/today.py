"""What rules-mode chat understood before the conversation engine, as a reader the bench can score.

It replays the decisions of `orchestrator.chat_commands` (approvals and the profile) and of the rules
brain's intent table, and maps each answer to the intent it effectively served: the help text is
`unknown` (or `help`, when help was asked for), "today's meetings" is `agenda_day` for today whatever
day was asked, "follow-ups" is `i_am_waiting_on`, a search is `mail_about_topic`.
"""

from __future__ import annotations

from datetime import datetime

from bench.conversation_eval.score import Reading
from orchestrator.brains.rules_brain import INTENTS
from orchestrator.chat_commands import COMMAND, SHOW_PROFILE, profile_change

__all__ = ["read_today"]

SERVED = {"follow_ups": "i_am_waiting_on", "meetings": "agenda_day", "urgent": "urgent_mail"}


def read_today(text: str, now: datetime) -> Reading:
    if match := COMMAND.match(text):
        verb = match.group("verb").lower()
        return Reading(verb, {"item": match.group("id")} if match.group("id") else {})
    if SHOW_PROFILE.match(text):
        return Reading("profile_show")
    if profile_change(text):
        return Reading("profile_edit")
    for name, pattern in INTENTS:
        if (found := pattern.search(text)) is None:
            continue
        if name == "help":
            return Reading("help")
        if name == "search":
            return Reading("mail_about_topic", {"topic": found.group("q").strip(" ?.").lower()})
        if name == "meetings":
            return Reading("agenda_day", {"date": now.date().isoformat()})
        return Reading(SERVED[name])
    return Reading("unknown")
