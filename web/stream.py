"""Server-sent events for the UI: every write to what the page shows, in log order.

Each event's SSE id is the context store's `seq`, so a browser that reconnects with `Last-Event-ID`
(or a page that opens the stream with `?after=` the cursor of its snapshot) misses nothing, across a
dropped connection or a restart of the orchestrator: the log is durable. Status (servers, tool calls
in flight) is sent as `status` events without an id every few seconds, and at once when a server
goes down or comes back.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from orchestrator.app import Pepper
from orchestrator.event_log import ContextEvent
from orchestrator.supervision.status import wait_for_change
from orchestrator.trust.actions import NAMESPACE as ACTIONS
from orchestrator.trust.cards import card
from web.api import Api

__all__ = ["UI_NAMESPACES", "stream", "ui_payload"]

UI_NAMESPACES = [
    "chat.messages",
    "signals.*",
    "notifications.inbox",
    "actions.pending",
    "activity.log",
    "memory.profile",
    "now.hidden",
    "today.waiting",
]
STATUS_SECONDS = 3.0


def stream(api: Api):
    async def endpoint(request: Request) -> EventSourceResponse:
        send, receive = anyio.create_memory_object_stream[ServerSentEvent](100)
        produce = functools.partial(_produce, api, _cursor(request), send)
        return EventSourceResponse(receive, data_sender_callable=produce, ping=15)

    return endpoint


def _cursor(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


async def _produce(api: Api, after: int | None, send: MemoryObjectSendStream[ServerSentEvent]) -> None:
    """Feed the response: log events from the cursor on, and status every few seconds."""
    pepper = api.pepper
    async with send, anyio.create_task_group() as task_group:
        task_group.start_soon(_status_events, api, send.clone())  # first: they need no server
        start = after if after is not None else await pepper.log.last_seq()
        await _log_events(pepper, start, send)


async def _log_events(pepper: Pepper, after: int, send: MemoryObjectSendStream[ServerSentEvent]) -> None:
    async with pepper.log.follow(None, UI_NAMESPACES, after) as events:
        async for event in events:
            payload = await ui_payload(pepper, event)
            if payload is not None:
                await send.send(ServerSentEvent(data=json.dumps(payload), event="item", id=str(event.seq)))


async def ui_payload(pepper: Pepper, event: ContextEvent) -> dict[str, Any] | None:
    """What the page gets for a logged write; None for a pending action Pepper did not sign, which is
    never shown (a pending action is sent as its card, see orchestrator.trust.cards)."""
    item = await pepper.items.get(event.namespace, event.id) if event.op == "store" else None
    if item is not None and event.namespace == ACTIONS:
        action = await pepper.desk.shown(event.id)
        if action is None:
            return None
        item.data = card(action)
    return {
        "seq": event.seq,
        "namespace": event.namespace,
        "id": event.id,
        "op": event.op,
        "item": item.model_dump(mode="json") if item else None,
    }


async def _status_events(api: Api, send: MemoryObjectSendStream[ServerSentEvent]) -> None:
    async with send:
        while True:
            await send.send(ServerSentEvent(data=json.dumps(api.status()), event="status"))
            await wait_for_change(api.pepper.connections.values(), STATUS_SECONDS)
