"""`Conversation`: rules-mode chat's answer to one message: read it (`intents.read`), resolve what
it points at ("the first one", "Tom's mail"), run the intent's action over MCP (`calendar_actions`,
`mail_actions`, `act_actions`), and say what happened, or ask one short question. The profile and
approval commands are answered by `chat_commands`, as before. Requests it cannot place get the help
text, led by the requests closest to what was asked.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio

from orchestrator.conversation import act_actions, calendar_actions, mail_actions
from orchestrator.conversation.cards import PageCards, card_ref
from orchestrator.conversation.intents import Reading, read
from orchestrator.conversation.lang import LANGUAGES, Language
from orchestrator.conversation.mail_index import MailIndex
from orchestrator.conversation.services import ActionError, Ref, Services
from orchestrator.event_log import EventLog
from orchestrator.feeds.waiting_feed import WaitingFeed
from orchestrator.mcp_clients import ServerUnavailable, ToolCallFailed, ToolCallTimeout

__all__ = ["Answer", "Conversation"]

logger = logging.getLogger(__name__)

CALENDAR = {"agenda_day", "agenda_range", "next_meeting", "free_time", "meeting_brief"}
MAIL = {
    "urgent_mail",
    "new_mail_since",
    "mail_from_person",
    "mail_about_topic",
    "waiting_on_me",
    "i_am_waiting_on",
}
ON_ITEMS = {"snooze_item", "mark_read_item", "mark_done_item"}
RETRY_SECONDS = 5.0
# How long "the first one" or "3" points into the chat's own last list; after that, at the page's cards.
LISTED_FOR = timedelta(minutes=10)
COMMANDS = {"profile_show", "profile_edit", "pending", "approve", "reject"}


@dataclass(frozen=True)
class Answer:
    text: str
    intent: str
    question: bool = False  # the answer is a clarifying question
    milliseconds: float = 0.0


class Conversation:
    """One user's rules-mode conversation; it remembers the last list it showed, for references."""

    def __init__(
        self, services: Services, clock: Callable[[], datetime], language: Language | None = None
    ) -> None:
        self.services = services
        self.clock = clock  # aware, in the user's timezone
        self.language = language or LANGUAGES["en"]
        self.shown: list[Ref] = []
        self.shown_at: datetime | None = None
        self.cards = PageCards()  # the Now cards as the page numbers them
        self.mail = MailIndex()

    async def follow_mail(self, log: EventLog) -> None:
        """Keep the mail index current in the background, so questions about mail stay quick, and
        with it the "waiting on you" signals (`feeds.waiting_feed`). A server that is gone stops it
        (`supervised` starts it again); a failed read is retried."""
        feed = WaitingFeed(self.services.items, self.services.user_addresses)

        async def changed(messages: list[dict[str, Any]]) -> None:
            await feed.refresh(messages, self.clock())

        while True:
            try:
                await self.mail.follow(self.services, log, changed, ("raw.email", "signals.email"))
            except (ActionError, ToolCallFailed, ToolCallTimeout) as exc:
                if isinstance(exc.__cause__, ServerUnavailable):
                    raise exc.__cause__ from exc
                logger.warning("the conversation's mail index could not catch up (%s); retrying", exc)
                await anyio.sleep(RETRY_SECONDS)

    async def answer(self, text: str) -> Answer:
        started = time.perf_counter()
        now = self.clock()
        reading = read(text, now, self.language)
        try:
            if reading.question is not None:
                reply, question = reading.question, True
            else:
                reply, question = await self._act(reading, now), False
        except ActionError as exc:
            reply, question = str(exc), "?" in str(exc)
        return Answer(reply, reading.intent, question, (time.perf_counter() - started) * 1000)

    async def act(self, reading: Reading) -> str:
        """Run what `reading` asks (the LLM mode's tools build their readings: `conversation.tools`);
        the reply, or an `ActionError` that says what went wrong."""
        return await self._act(reading, self.clock())

    async def _act(self, reading: Reading, now: datetime) -> str:
        intent, services = reading.intent, self.services
        if intent in COMMANDS:
            return await self._command(reading)
        if intent in ("help", "unknown"):
            return self.help_text(reading)
        if intent == "greeting":
            thanks = reading.normal.startswith(("thank", "thx", "cheers"))
            return self.language.extra["thanks" if thanks else "greeting"]
        if intent in CALENDAR or intent in MAIL:
            reply, refs = await self._lookup(reading, now)
        elif intent == "summarize_thread":
            reply, refs = await mail_actions.summarize(
                services, reading, now, await self._one_message(reading), self.mail
            )
        elif intent == "remind_me":
            about = (await self._refs(reading))[0] if "item" in reading.slots else None
            reply, refs = await act_actions.remind(services, reading, now, self.language, about)
        elif intent == "list_reminders":
            reply, refs = await act_actions.list_reminders(services, reading, now)
        elif intent == "cancel_reminder":
            reply, refs = await act_actions.cancel_reminder(services, reading, now, self.shown)
        elif intent in ("digest_now", "digest_time"):
            reply, refs = await act_actions.digest(services, reading, now)
        elif intent == "snooze_item":
            reply, refs = await act_actions.snooze(
                services, reading, now, self.language, await self._refs(reading)
            )
        elif intent == "correct_item":
            refs = await self._correct_refs(reading)
            reply, refs = await act_actions.correct(services, reading, now, refs, self.language)
        elif intent in ON_ITEMS:
            reply, refs = await act_actions.mark(services, reading, now, await self._refs(reading))
        else:  # draft_reply
            reply, refs = await act_actions.draft_reply(
                services, reading, await self._one_message(reading), await self._signer()
            )
        if refs:
            self._remember(refs)
        return reply

    def _remember(self, refs: list[Ref]) -> None:
        self.shown, self.shown_at = refs, self.clock()

    def _listed(self) -> list[Ref] | None:
        """The chat's own last list, while the user can still mean it (`LISTED_FOR`)."""
        if self.shown and self.shown_at is not None and self.clock() - self.shown_at <= LISTED_FOR:
            return self.shown
        return None

    async def _lookup(self, reading: Reading, now: datetime) -> tuple[str, list[Ref]]:
        handlers: dict[str, Any] = {
            "next_meeting": calendar_actions.next_meeting,
            "meeting_brief": calendar_actions.meeting_brief,
            "mail_about_topic": mail_actions.about_topic,
            "i_am_waiting_on": mail_actions.i_am_waiting_on,
        }
        indexed: dict[str, Any] = {  # these read the mail index's headers
            "new_mail_since": mail_actions.new_since,
            "mail_from_person": mail_actions.from_person,
            "waiting_on_me": mail_actions.waiting_on_me,
        }
        if reading.intent in ("free_time", "agenda_day", "agenda_range"):
            answer = calendar_actions.free_time if reading.intent == "free_time" else calendar_actions.agenda
            return await answer(self.services, reading, now, self.language)
        if reading.intent in indexed:
            return await indexed[reading.intent](self.services, reading, now, self.mail)
        if reading.intent == "urgent_mail":
            cards = await self.cards.refs(self.services) if self.cards.keys else None
            return await mail_actions.urgent(self.services, reading, now, cards)
        return await handlers[reading.intent](self.services, reading, now)

    async def _refs(self, reading: Reading) -> list[Ref]:
        """What the item slot points at among the things last shown (or, for a person, their mail)."""
        item = reading.slots.get("item")
        questions = self.language.questions
        if item is None:
            raise ActionError(questions["which_item"])
        if item.startswith("from:"):
            name = item.removeprefix("from:")
            matching = (
                [ref for ref in self.shown if name in ref.person]
                or [ref for ref in self.shown if name in ref.title.lower()]
                or [
                    Ref("email", m["id"], m.get("subject") or "(no subject)", "", "raw.email")
                    for m in (
                        await mail_actions.mail_refs(self.services, _with_person(reading, name), self.mail)
                    )[:1]
                ]
            )
            if not matching:
                raise ActionError(f"I found no mail from {name.title()}.")
            return matching[:1]
        if item.startswith("card:"):
            return await self.cards.refs(self.services, [int(item.removeprefix("card:"))])
        if item.startswith("key:"):  # a card named by its key (the LLM mode's tools)
            if (ref := await card_ref(self.services, item.removeprefix("key:"))) is None:
                raise ActionError(f"There is no card {item.removeprefix('key:')!r}; search for it again.")
            return [ref]
        listed = self._listed()
        if listed is None and self.cards.known:  # nothing said lately: the numbers the page shows
            return await self._page_refs(item)
        if not listed:
            raise ActionError("Nothing is listed yet to point at: ask me `what is urgent?` first.")
        if item == "all":
            return list(listed)
        if item == "last" or (item == "this" and len(listed) == 1):
            return listed[-1:]
        if item.isdigit() and 1 <= int(item) <= len(listed):
            return [listed[int(item) - 1]]
        if item.isdigit():
            raise ActionError(f"I listed {len(listed)}; which one do you mean?")
        raise ActionError(questions["which_item"])

    async def _page_refs(self, item: str) -> list[Ref]:
        count = len(self.cards.keys)
        if item == "all":
            return await self.cards.refs(self.services)
        if item == "last" or (item == "this" and count == 1):
            return await self.cards.refs(self.services, [count])
        if item.isdigit():
            return await self.cards.refs(self.services, [int(item)])
        raise ActionError(self.language.questions["which_item"])

    async def _correct_refs(self, reading: Reading) -> list[Ref]:
        """A correction points at something shown, or names a sender's address outright."""
        if "item" not in reading.slots and (address := act_actions.ADDRESS.search(reading.text)):
            return [Ref("sender", address.group().lower(), address.group().lower())]
        return await self._refs(reading)

    async def _one_message(self, reading: Reading) -> dict[str, Any]:
        if "item" in reading.slots:
            ref = (await self._refs(reading))[0]
            message_id = ref.id
        else:
            found = await mail_actions.mail_refs(self.services, reading, self.mail)
            senders = {m.get("from", {}).get("email") for m in found} if "person" in reading.slots else set()
            if len(senders) > 1:
                raise ActionError(
                    f"Which {reading.slots['person'].title()} do you mean: {', '.join(sorted(filter(None, senders)))}?"
                )
            if not found:
                raise ActionError("I found no such mail.")
            message_id = found[0]["id"]
        item = await self.services.items.get("raw.email", message_id)
        if item is None or not isinstance(item.data, dict):
            raise ActionError("That is not a mail I have read.")
        return item.data

    async def _signer(self) -> str:
        profiles = self.services.profiles
        profile = await profiles.load() if profiles is not None else None
        return (profile.display_name if profile is not None else None) or ""

    async def _command(self, reading: Reading) -> str:
        from orchestrator.chat_commands import answer_command

        desk = self.services.desk
        if desk is None:
            raise ActionError("approvals are not available here")
        text = reading.text
        if reading.intent == "profile_show":
            text = "profile"
        elif reading.intent in ("approve", "reject", "pending"):
            text = await self._command_text(reading)
        answer = await answer_command(desk, text, self.services.profiles)
        if reading.intent == "pending":
            self._remember([Ref("action", a.id, a.describe()) for a in await desk.pending()])
        return answer or self.help_text(reading)

    async def _command_text(self, reading: Reading) -> str:
        """`approve ID` for chat_commands; "approve it" names the one action this conversation just
        showed (a draft, or a pending list of one), and nothing else."""
        item = reading.slots.get("item")
        if reading.intent == "pending":
            return "pending"
        if item in (None, "this"):
            assert self.services.desk is not None
            shown = {ref.id for ref in self.shown if ref.kind == "action"}
            waiting = [a for a in await self.services.desk.pending() if a.id in shown]
            if len(waiting) != 1:
                choices = "Say `pending` to list them, then `approve ID`."
                raise ActionError(self.language.questions["which_action"].format(choices=choices))
            item = waiting[0].id
        return f"{reading.intent} {item}"

    def help_text(self, reading: Reading) -> str:
        """The help text, led by the requests whose words are closest to what was asked."""
        lines = self.language.help_lines

        def content(text: str) -> set[str]:  # "the", "to", "me" say nothing about what was meant
            return {word for word in re.findall(r"[^\W\d_]+", text.lower()) if len(word) > 3}

        words = content(reading.normal)
        ranked = sorted(lines, key=lambda intent: -len(words & content(lines[intent])))
        intro = (
            self.language.help_intro
            if reading.intent == "unknown"
            else "Without a language model I can do these:"
        )
        return intro + "\n" + "\n".join(f"- {lines[intent]}" for intent in ranked)


def _with_person(reading: Reading, name: str) -> Reading:
    from dataclasses import replace

    return replace(reading, slots={**reading.slots, "person": name})
