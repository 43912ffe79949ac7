"""The conversation's acting intents as tools for the LLM mode's scheduler: snooze, done and mark
read of a card, reminders listed and cancelled, the digest now or its daily time, a reply draft.

A tool call becomes the `Reading` the rules engine would have made of the same request (the intent,
its slots, the words that say when) and runs through `Conversation.act`, so both modes run one set of
actions: a card snoozed by the model leaves Now exactly as one snoozed in rules mode. A card is named
by its number as the page shows it ("3", "card 3"), by a reference the rules engine reads ("the
first one", "Tom's mail", "the Dana one"), or by its key (`signals.email/<id>`, as `search_context`
shows it). What cannot be done comes back to the model as the user would have been told.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from orchestrator.conversation.cards import KEY
from orchestrator.conversation.dates import When, find_when
from orchestrator.conversation.intents import Reading, item_reference, normalize
from orchestrator.conversation.lang import Language

if TYPE_CHECKING:
    from orchestrator.conversation.actions import Conversation

__all__ = ["ACTION_DESCRIPTIONS", "ACTION_TOOLS", "reading_for", "run_action"]

ITEM = "Which card: its number as the page shows it ('3'), 'the first one', \"Tom's mail\", or its key ('signals.email/ID')"


class SnoozeItem(BaseModel):
    item: str = Field(min_length=1, max_length=300, description=ITEM)
    until: str = Field(
        "tomorrow", max_length=100, description="When it comes back: 'tomorrow', 'Monday 9am', 'in 2 hours'"
    )


class MarkItem(BaseModel):
    item: str = Field(min_length=1, max_length=300, description=ITEM)


class ListReminders(BaseModel):
    when: str = Field(
        "", max_length=100, description="Only those due then ('tomorrow', 'this week'); empty: all"
    )


class CancelReminder(BaseModel):
    reminder: str = Field(
        min_length=1,
        max_length=300,
        description="Its number in the reminders last listed, 'all', or words of its text",
    )


class Digest(BaseModel):
    send_now: bool = Field(False, description="Send the digest of what is open now")
    at: str = Field("", max_length=40, description="Its new daily time ('8am', '07:30'); empty: keep it")


class DraftReply(BaseModel):
    to: str = Field(
        min_length=1, max_length=300, description=f"The mail to answer. {ITEM}, or the sender's name"
    )
    text: str = Field(min_length=1, max_length=5000, description="What the reply says, in the user's words")


ACTION_TOOLS: dict[str, type[BaseModel]] = {
    "snooze_item": SnoozeItem,
    "mark_done_item": MarkItem,
    "mark_read_item": MarkItem,
    "list_reminders": ListReminders,
    "cancel_reminder": CancelReminder,
    "digest": Digest,
    "draft_reply": DraftReply,
}
ACTION_DESCRIPTIONS = {
    "snooze_item": "Put a card away from Now until a time; it comes back then.",
    "mark_done_item": "Take a card off Now for good (the mail stays in the mailbox).",
    "mark_read_item": "Mark a card's mail or notification read.",
    "list_reminders": "List the user's reminders.",
    "cancel_reminder": "Cancel a reminder.",
    "digest": "Send the daily digest now, or set the time it comes each day.",
    "draft_reply": "Draft a reply (greeting, the user's sentence, sign-off); it waits for the user's approval.",
}


def reading_for(name: str, arguments: BaseModel, now: datetime, language: Language) -> Reading:
    """The reading the rules engine would have made of the same request."""
    said = json.dumps(arguments.model_dump(), ensure_ascii=False)
    when_words, slots, intent, body = "", {}, name, None
    match arguments:
        case SnoozeItem(item=item, until=until):
            when_words, slots = until, _item(item, language)
        case MarkItem(item=item):
            slots = _item(item, language)
        case ListReminders(when=when):
            when_words = when
        case CancelReminder(reminder=which):  # a number is the reminders list's, not a card's
            number = which.strip().lstrip("#")
            slots = (
                {"item": number} if number.isdigit() else _item(which, language) or {"topic": which.lower()}
            )
        case Digest(send_now=send_now, at=at):
            intent, when_words = ("digest_time" if at and not send_now else "digest_now"), at
        case DraftReply(to=to, text=text):
            slots, body = _item(to, language) or {"person": to.lower()}, text
    when = find_when(normalize(when_words, language)[0], now, language) if when_words else When()
    return Reading(intent, f"{name} {said}", said, slots, when, body=body)


def _item(text: str, language: Language) -> dict[str, str]:
    words = text.strip()
    if KEY.match(words):
        return {"item": f"key:{words}"}
    if words.lstrip("#").isdigit():  # the model knows the page's numbers, not the chat's lists
        return {"item": f"card:{int(words.lstrip('#'))}"}
    reference = item_reference(normalize(words, language)[0], language)
    return {"item": reference} if reference else {}


async def run_action(conversation: Conversation, name: str, arguments: BaseModel) -> str:
    """Run the tool's action as the rules engine runs it; `ActionError` says what went wrong."""
    reading = reading_for(name, arguments, conversation.clock(), conversation.language)
    return await conversation.act(reading)
