"""The UI's JSON API over a running `Pepper`: a snapshot of everything the page shows, chat (and
`ask`, answered at once by the conversation engine), the Now cards as the page numbers them (for
"card 3"), approvals, notification actions, corrections of the Now list and "mark read" of mail
(`orchestrator.triage`), search and the user's profile (shown and edited in Settings, and by
`pepper-orchestrator profile`). Live updates come from `web/stream.py`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from orchestrator.accounts.names import account_of, server_kind
from orchestrator.app import Pepper
from orchestrator.conversation.cards import MOST_CARDS
from orchestrator.mcp_clients import ConnectionState, ServerUnavailable, ToolCallFailed, ToolCallTimeout
from orchestrator.notifications import NAMESPACE as NOTIFICATIONS
from orchestrator.profile import ProfileChange, ProfileEditError, profile_view
from orchestrator.supervision.status import server_status
from orchestrator.triage.now import NOW_READS, now_items
from orchestrator.triage.read import mark_read
from orchestrator.trust.cards import card

__all__ = ["Api"]

logger = logging.getLogger(__name__)

UI_LISTS = {
    "notifications": (["notifications.inbox"], 100),
    "activity": (["activity.log"], 100),
    "hidden": (["now.hidden"], 1000),  # cards the user snoozed or finished (orchestrator.conversation.hidden)
    "waiting": (["today.waiting"], 300),  # who waits on the user's reply (orchestrator.feeds.waiting_feed)
}


# The signals: the newest 300 of every kind, and what Now and Today can show however long ago it was
# judged (see `orchestrator.triage.now`), with the other kinds the page's Now holds.
PAGE_SIGNALS = (("signals.*", (), 300), *NOW_READS, ("signals.reminder", (), 100), ("signals.feed", (), 100))

SOURCES = {"gmail://message/": "raw.email", "calendar://event/": "raw.calendar"}


class ChatIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    cards: list[str] | None = Field(
        None, max_length=MOST_CARDS, description="The Now cards the page shows, card 1 first (their keys)"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the message is empty: write what you want to ask")
        return text


class NowIn(BaseModel):
    cards: list[str] = Field(max_length=MOST_CARDS, description="The Now cards the page shows, card 1 first")


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(approve|reject)$")
    arguments: dict[str, Any] | None = Field(None, description="The user's edit of the arguments")
    digest: str | None = Field(
        None, pattern="^[0-9a-f]{64}$", description="The digest of the card the user saw (see trust.cards)"
    )


class CorrectionIn(BaseModel):
    kind: Literal["important", "not_important", "never"]
    message_id: str | None = Field(None, min_length=1, max_length=500, description="The mail corrected")
    sender: str | None = Field(None, min_length=3, max_length=320, description="Or a sender's address")


class SnoozeIn(BaseModel):
    until: str = Field(min_length=1, description="ISO time or a duration such as '1h'")


class Api:
    def __init__(self, pepper: Pepper) -> None:
        self.pepper = pepper

    async def state(self, request: Request) -> JSONResponse:
        pepper = self.pepper
        context = pepper.connections["context"]
        if context.state is ConnectionState.DOWN:  # the lists would wait for its restart: say so now
            error = "the context store is down; Pepper restarts it and resumes where it stopped"
            return JSONResponse({"error": error, "status": self.status()}, 503)
        cursor = await pepper.log.last_seq()
        lists = {
            name: [item.model_dump(mode="json") for item in await pepper.items.query(ns, limit=n)]
            for name, (ns, n) in UI_LISTS.items()
        }
        lists["signals"] = [
            item.model_dump(mode="json") for item in await now_items(pepper.items, PAGE_SIGNALS)
        ]
        chat = [message.model_dump(mode="json") for message in await pepper.chat.recent(200)]
        approvals = [card(action) for action in await pepper.desk.pending()]
        return JSONResponse(
            {
                "cursor": cursor,
                "now": datetime.now(UTC).isoformat(),  # the page keeps to Pepper's clock (ui.js serverNow)
                "status": self.status(),
                "chat": chat,
                "approvals": approvals,
                **lists,
            }
        )

    async def live_status(self, request: Request) -> JSONResponse:
        """`status()` alone, from memory: no MCP call, so a server that died shows as down at once,
        even while the context store is busy (the snapshot of `state` waits for its queries)."""
        return JSONResponse(self.status())

    def status(self) -> dict[str, Any]:
        pepper = self.pepper
        servers = server_status(pepper.connections)
        usage = pepper.model.usage if pepper.model else None
        return {
            "mode": pepper.mode,
            "model": pepper.settings.model if pepper.model else None,
            "servers": servers,
            "sources": pepper.health.snapshot(),
            "accounts": sorted(
                {
                    account_of(name)
                    for name in pepper.connections
                    if server_kind(name) in ("gmail", "calendar")
                }
            ),
            "in_flight": [call.model_dump(mode="json") for call in pepper.engine.in_flight.values()],
            "workers": list(pepper.workers.running.values()) if pepper.workers else [],
            "custom_workers": pepper.custom_workers(),
            "steps": pepper.scheduler.steps,
            "queued": len(pepper.scheduler.queue),
            "mail_sync": pepper.mail_ingest.progress.as_status() if pepper.mail_ingest else None,
            "mcp_calls": {name: dict(connection.calls) for name, connection in pepper.connections.items()},
            "tokens": {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens}
            if usage
            else None,
            "settings": {
                "data_dir": str(pepper.settings.data_dir),
                "servers": {name: _describe(pepper, name) for name in pepper.connections},
                "llm_endpoint": pepper.settings.openai_base_url or ("OpenAI" if pepper.model else None),
            },
        }

    async def chat(self, request: Request) -> JSONResponse:
        message = await _parse(request, ChatIn)
        if isinstance(message, JSONResponse):
            return message
        if message.cards is not None and (wrong := self._show_cards(message.cards)) is not None:
            return wrong
        await self.pepper.send(message.text)
        return JSONResponse({"ok": True}, 202)

    async def now_cards(self, request: Request) -> JSONResponse:
        """The page says which Now cards it shows, in order: "card 3" in chat (or `ask`) is its third."""
        shown = await _parse(request, NowIn)
        if isinstance(shown, JSONResponse):
            return shown
        return self._show_cards(shown.cards) or JSONResponse({"cards": len(shown.cards)})

    def _show_cards(self, cards: list[str]) -> JSONResponse | None:
        try:
            self.pepper.conversation.cards.show(cards)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return None

    async def ask(self, request: Request) -> JSONResponse:
        """The conversation engine's answer, at once (`pepper-orchestrator ask`)."""
        message = await _parse(request, ChatIn)
        if isinstance(message, JSONResponse):
            return message
        try:
            answer = await self.pepper.ask(message.text)
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"reply": answer.text, "intent": answer.intent, "question": answer.question})

    async def decide(self, request: Request) -> JSONResponse:
        decision = await _parse(request, DecisionIn)
        if isinstance(decision, JSONResponse):
            return decision
        action_id = request.path_params["action_id"]
        try:
            if decision.decision == "approve":
                action = await self.pepper.desk.approve(action_id, decision.arguments, digest=decision.digest)
            else:
                action = await self.pepper.desk.reject(action_id)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        return JSONResponse(card(action))

    async def notification(self, request: Request) -> JSONResponse:
        notify = self.pepper.connections.get("notify")
        if notify is None:
            return JSONResponse({"error": "the notify server is not configured"}, 404)
        notification_id, verb = request.path_params["notification_id"], request.path_params["verb"]
        if verb == "read":  # the notify server announces notify://inbox; the mirror follows it
            return await _call(notify, "mark_read", {"ids": [notification_id]})
        if verb != "snooze":
            return JSONResponse({"error": f"unknown action {verb!r}: use read or snooze"}, 404)
        snooze = await _parse(request, SnoozeIn)
        if isinstance(snooze, JSONResponse):
            return snooze
        answer = await _call(notify, "snooze", {"id": notification_id, "until": snooze.until})
        if answer.status_code == 200:
            await self._mirror_snoozed(json.loads(answer.body))
        return answer

    async def _mirror_snoozed(self, result: dict[str, Any]) -> None:
        """The notify server lists only delivered notifications, so the mirror of the inbox never
        sees one go into snooze: record it here, for the page and anyone following the log."""
        notification = result.get("notification")
        if notification:
            text = f"{notification['title']}\n{notification.get('body', '')}"
            tags = [notification["priority"], "snoozed"]
            await self.pepper.items.put(NOTIFICATIONS, notification["id"], notification, text, tags=tags)

    async def correct(self, request: Request) -> JSONResponse:
        """A correction ("important", "not_important", "never") of a mail or a sender: learned at
        once, and every open mail ranked again."""
        correction = await _parse(request, CorrectionIn)
        if isinstance(correction, JSONResponse):
            return correction
        if not (correction.message_id or correction.sender):
            return JSONResponse({"error": "say which mail (message_id) or sender (sender) to correct"}, 400)
        try:
            said, moved = await self.pepper.ranker.correct(
                correction.kind, datetime.now(UTC), message_id=correction.message_id, sender=correction.sender
            )
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"message": said, "moved": moved})

    async def mark_mail_read(self, request: Request) -> JSONResponse:
        """Mark a mail read: \\Seen in the mailbox when the gmail server may write, in Pepper only
        otherwise; either way its card leaves Now at once."""
        message_id = request.path_params["message_id"]
        try:
            pepper = self.pepper  # the mail's own account's mailbox, named by its signal
            where = await mark_read(pepper.connections, pepper.items, pepper.ranker, message_id)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        except ToolCallFailed as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except (ServerUnavailable, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"marked": where})

    async def source(self, request: Request) -> JSONResponse:
        """The mail or event a signal links to (`?link=gmail://message/ID`), as Pepper read it."""
        link = request.query_params.get("link", "")
        prefix = next((p for p in SOURCES if link.startswith(p) and len(link) > len(p)), None)
        if prefix is None:
            return JSONResponse({"error": f"not a mail or event link: {link!r}"}, 400)
        try:
            item = await self.pepper.items.get(SOURCES[prefix], link.removeprefix(prefix))
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        if item is None:
            return JSONResponse({"error": "Pepper has not read it (or it was deleted)"}, 404)
        return JSONResponse({"link": link, "text": item.text or "", "data": item.data})

    async def search(self, request: Request) -> JSONResponse:
        query = request.query_params.get("q", "").strip()
        if not query:
            return JSONResponse({"error": "say what to search for: ?q=words"}, 400)
        namespaces = ["raw.email", "raw.calendar", "signals.*", "memory.*"]
        try:
            items = await self.pepper.items.search(query, namespaces, limit=25)
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"query": query, "items": [item.model_dump(mode="json") for item in items]})

    async def profile(self, request: Request) -> JSONResponse:
        """GET: the profile; POST a `ProfileChange`: apply it, then the profile and what changed."""
        message = None
        try:
            if request.method == "POST":
                change = await _parse(request, ProfileChange)
                if isinstance(change, JSONResponse):
                    return change
                message = await self.pepper.profiles.apply(change)
            profile = await self.pepper.profiles.load()
        except ProfileEditError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"message": message, "profile": profile_view(profile, datetime.now(UTC))})


def _describe(pepper: Pepper, name: str) -> str:
    config = pepper.settings.server(name)
    return config.url or " ".join(config.command[2:] if config.command[1:2] == ["-m"] else config.command)


async def _parse(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        return JSONResponse({"error": f"bad request: {exc}"}, 400)


async def _call(connection: Any, tool: str, arguments: dict[str, Any]) -> JSONResponse:
    try:
        outcome = await connection.call_tool(tool, arguments)
    except ToolCallFailed as exc:
        return JSONResponse({"error": str(exc)}, 400)
    except (ServerUnavailable, ToolCallTimeout) as exc:
        return JSONResponse({"error": str(exc)}, 503)
    return JSONResponse(outcome.structured or {"text": outcome.text})
