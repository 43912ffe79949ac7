"""The scheduler's own tools and the runner that carries them out over MCP.

Notifications are the user's own channels: they go out as plain text, their foreign links inert
(`trust.outbound.sanitize_notification`). The conversation's acting intents (snooze, done, mark read,
reminders, the digest, a reply draft) are tools too, run by the same code as in rules mode
(`orchestrator.conversation.tools`). `send_to_user` and `wait` are answered inside the step (the brain adapters turn them into the reply
or into nothing); `notify`, `delegate` and `search_context` run in the background in the tool-call
engine. Arguments are validated here with pydantic, so whatever a model got wrong comes back to it as
a precise error message, and the call's id is the notification's dedupe key: a call repeated after a
restart never pings the user twice. A call whose server is unavailable becomes `RetryLater`: the
engine keeps it and runs it again once the server is back; so does a notification the notify server
could not store for now (its disk full or read-only, its database locked), every
`storage_retry_seconds`, until the disk allows. A call that timed out becomes a
`TimeoutError`, which the engine runs again only for the `REPEATABLE` tools (a search is a read, a
notification carries its dedupe key); a delegation or a chat reply that timed out is not repeated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, ValidationError

from orchestrator.context_items import ContextItems, StoredItem
from orchestrator.conversation.tools import ACTION_DESCRIPTIONS, ACTION_TOOLS
from orchestrator.extensions.config import WorkerConfig
from orchestrator.mcp_clients import ServerConnection, ServerUnavailable, ToolCallFailed, ToolCallTimeout
from orchestrator.scheduler.engine import PendingCall, RetryLater
from orchestrator.scheduler.loop import ToolDescription
from orchestrator.supervision.retry import back_again
from orchestrator.trust.outbound import sanitize_notification
from orchestrator.workers.pool import WorkerPool

__all__ = ["QUIET_TOOLS", "REPEATABLE_TOOLS", "SchedulerToolRunner", "scheduler_tools"]


class SendToUser(BaseModel):
    text: str = Field(min_length=1, description="What to tell the user (markdown)")


class Notify(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="Short headline")
    body: str = Field("", description="Details")
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    link: str | None = Field(None, description="URI of what it is about")


class Delegate(BaseModel):
    task: str = Field(min_length=1, description="What the worker should do, self-contained")
    worker: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Name of a stateful worker; omit for a one-off"
    )


class SearchContext(BaseModel):
    query: str = Field("", description="Words or meaning to look for; empty lists the newest items")
    namespaces: list[str] = Field(
        default_factory=list, description="Globs such as 'signals.*' or 'raw.email'"
    )
    tags: list[str] = Field(default_factory=list, description="Only items with all these tags")
    any_tags: list[str] = Field(
        default_factory=list, description="Only items with at least one of these tags"
    )
    limit: int = Field(10, ge=1, le=50)


class Wait(BaseModel):
    reason: str = Field("", description="Why nothing needs doing now")


ARGUMENTS: dict[str, type[BaseModel]] = {
    "send_to_user": SendToUser,
    "notify": Notify,
    "delegate": Delegate,
    "search_context": SearchContext,
    "wait": Wait,
    **ACTION_TOOLS,  # the conversation's actions: the rules engine runs the same (conversation.tools)
}
DESCRIPTIONS = {
    "send_to_user": "Say something to the user in the chat.",
    "notify": "Send the user a notification (for what they should see even when not chatting).",
    "delegate": "Hand a longer task to a worker agent that can use mail, calendar and notes tools; its answer comes back later.",
    "search_context": "Search Pepper's memory: mail (by meaning; for keywords and Gmail operators use "
    "the gmail server's search_messages), calendar, signals and notes.",
    "wait": "Do nothing now.",
    **ACTION_DESCRIPTIONS,
}
QUIET_TOOLS = frozenset({"notify", "send_to_user", "wait"})
# Safe to run twice: a search reads, a notification goes out under its call's id as dedupe key.
REPEATABLE_TOOLS = frozenset({"notify", "search_context", "wait", "list_reminders"})
# How the notify server says it stored nothing because of its disk (mcp_servers/notify/errors.py):
# once space returns, the same call goes through.
STORAGE_TROUBLE = (": disk full: ", ": cannot write the database ", ": database is locked: ")


def scheduler_tools(
    llm_mode: bool, workers: Mapping[str, WorkerConfig] | None = None
) -> list[ToolDescription]:
    """The tools offered to the brain; delegation needs a model, so rules mode goes without it, and
    without the conversation's actions, which rules mode runs from the chat itself. The custom
    workers of the config are named in `delegate`'s description, each with what it is for."""
    names = [name for name in ARGUMENTS if llm_mode or (name != "delegate" and name not in ACTION_TOOLS)]
    descriptions = {**DESCRIPTIONS, "delegate": delegate_description(workers or {})}
    return [
        ToolDescription(
            name=name, description=descriptions[name], parameters=ARGUMENTS[name].model_json_schema()
        )
        for name in names
    ]


def delegate_description(workers: Mapping[str, WorkerConfig]) -> str:
    if not workers:
        return DESCRIPTIONS["delegate"]
    lines = [
        f"- {name} ({'keeps notes across tasks' if config.stateful else 'one-off'}): {config.description}"
        for name, config in workers.items()
    ]
    return (
        f"{DESCRIPTIONS['delegate']} Name one of these workers in `worker` when the task is theirs:\n"
        + "\n".join(lines)
    )


def validate_arguments(name: str, arguments: dict[str, Any]) -> BaseModel:
    """The call's arguments as their model; raises ValueError with what to fix."""
    model = ARGUMENTS.get(name)
    if model is None:
        raise ValueError(f"there is no scheduler tool named {name!r}; use one of {', '.join(ARGUMENTS)}")
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or name}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid arguments for {name}: {problems}") from exc


class SchedulerToolRunner:
    """Runs a scheduler tool call; the engine turns the text or the error into a tool result."""

    def __init__(
        self,
        items: ContextItems,
        notify: ServerConnection | None,
        reply: Callable[[str], Awaitable[None]],
        workers: WorkerPool | None = None,
        ui_hosts: list[str] | None = None,
        storage_retry_seconds: float = 30.0,
        actions: Callable[[str, BaseModel], Awaitable[str]] | None = None,
    ) -> None:
        self._items = items
        self._notify = notify
        self._reply = reply
        self._workers = workers
        self._ui_hosts = ui_hosts or []
        self._storage_retry_seconds = storage_retry_seconds
        self._actions = actions  # the conversation's actions (`conversation.tools.run_action`)

    async def __call__(self, call: PendingCall) -> str:
        arguments = validate_arguments(call.name, call.arguments)
        try:
            return await self._run(call, arguments)
        except ServerUnavailable as exc:
            if exc.connection is None:  # not configured at all: waiting would not help
                raise
            raise RetryLater(str(exc), functools.partial(back_again, exc.connection)) from exc
        except ToolCallTimeout as exc:  # the engine decides, by `repeatable`, whether to run it again
            raise TimeoutError(str(exc)) from exc

    @staticmethod
    def repeatable(call: PendingCall) -> bool:
        """Whether running `call` a second time is harmless (after it timed out)."""
        return call.name in REPEATABLE_TOOLS

    async def _run(self, call: PendingCall, arguments: BaseModel) -> str:
        match arguments:
            case SendToUser(text=text):
                await self._reply(text)
                return "delivered"
            case Notify():
                return await self._send_notification(arguments, call.id)
            case Delegate(task=task, worker=worker):
                if self._workers is None:
                    raise ValueError("delegation needs an LLM endpoint; Pepper is in rules mode")
                result = await self._workers.run(task, worker, call.origin)
                return result.answer
            case SearchContext():
                return await self.search(arguments)
            case _ if call.name in ACTION_TOOLS:
                if self._actions is None:
                    raise ValueError(f"{call.name} is not available here: the conversation is not running")
                return await self._actions(call.name, arguments)
            case _:
                return "ok"

    async def _send_notification(self, notification: Notify, call_id: str) -> str:
        if self._notify is None:
            raise ServerUnavailable("the notify server is not configured")
        links = [notification.link] if notification.link else []
        plain = sanitize_notification(
            {"title": notification.title, "body": notification.body, "links": links}, self._ui_hosts
        )
        try:
            outcome = await self._notify.call_tool(
                "send_notification",
                {**plain, "priority": notification.priority, "source": "pepper", "dedupe_key": call_id},
            )
        except ToolCallFailed as exc:
            if not any(words in str(exc) for words in STORAGE_TROUBLE):
                raise
            raise RetryLater(str(exc), functools.partial(anyio.sleep, self._storage_retry_seconds)) from exc
        return outcome.text or "sent"

    async def search(self, search: SearchContext) -> str:
        """Hits as JSON lines (namespace, id, text, data); newest items when there is no query."""
        items: dict[tuple[str, str], StoredItem] = {}
        for tag in search.any_tags or [None]:
            tags = [*search.tags, tag] if tag else search.tags
            if search.query:
                found = await self._items.search(search.query, search.namespaces, tags, search.limit)
            else:
                found = await self._items.query(search.namespaces, tags, search.limit)
            items.update(((item.namespace, item.id), item) for item in found)
        lines = [
            json.dumps(_brief(item), ensure_ascii=False, default=str)
            for item in list(items.values())[: search.limit]
        ]
        return "\n".join(lines) or "no matches"


BRIEF_DATA_CHARS = 1500


def _brief(item: StoredItem) -> dict[str, Any]:
    """An item cut down for a prompt: its text clipped, its data kept only when it is small."""
    brief: dict[str, Any] = {"namespace": item.namespace, "id": item.id, "text": (item.text or "")[:500]}
    if len(json.dumps(item.data, default=str)) <= BRIEF_DATA_CHARS:
        brief["data"] = item.data
    return brief
