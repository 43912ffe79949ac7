"""The context store's MCP surface: tools, resources and subscriptions over a `Storage` backend.

`build_server(settings, store=None)` returns the server (the SDK's `MCPServer`: see
mcp_servers/common/surface.py for why). Its lifespan opens the backend the settings name (unless one
is passed in, which the caller then owns), and runs the change notifier, the maintenance loop and
the embedding worker. The server knows nothing of the backend beyond the
`Storage` protocol; the store's own errors become `ToolError`s (or `ResourceError`s) with its message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import anyio
from anyio.abc import TaskGroup
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field, JsonValue

from mcp_servers.common.background import background
from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.common.surface import PepperServer, ResourceError, ToolError, pepper_server

from . import uris
from .errors import ContextStoreError, NotFound
from .limits import Limits
from .models import EventPage, Expiry, Item, ItemInput, SearchHit, Ttl, Written
from .notifier import ChangeNotifier
from .pacing import ForegroundGate
from .search import unindexed_note
from .services import EmbeddingWorker, embedding_worker, maintain, open_storage
from .settings import ContextStoreSettings
from .sqlite_storage import SqliteStorage
from .storage import Storage
from .store import ContextStore

__all__ = ["build_server"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
SEARCH_CATCH_UP_SECONDS = 2.0  # a semantic search waits this long at most for queued items
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
# An upsert replaces what was stored under its id (destructive), and without an id each call
# stores one more item (not idempotent).
UPSERT = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)
DELETE = UPSERT.model_copy(update={"idempotent_hint": True})  # a second delete finds nothing to delete
CURSOR = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

Namespace = Annotated[str, Field(description="Dotted namespace, e.g. 'signals.email'")]
ItemId = Annotated[str, Field(description="The item's id within its namespace")]
# One OR (globs) or AND (tags) term per entry: a thousand of them overflow SQLite's expression tree.
MAX_FILTERS = Limits.max_filters  # the schema says it too, so the model sees the bound
Globs = Annotated[
    list[str],
    Field(max_length=MAX_FILTERS, description="Namespace globs, e.g. ['signals.*']; empty means all"),
]
Tags = Annotated[
    list[str], Field(max_length=MAX_FILTERS, description="Only items carrying every one of these tags")
]
Since = Annotated[datetime | None, Field(description="Only items updated at or after this time")]
Until = Annotated[datetime | None, Field(description="Only items updated before this time")]
MAX_GET_MANY = 1000  # ids per get_many: a feed reads a page of events (100) in one call
MAX_ITEM_FIELDS = 64  # keys of an item's data that read_events may be asked to keep
MAX_SEQ = 2**63 - 1  # SQLite's largest INTEGER: a larger seq cannot even be compared with the log


class StoredBatch(BaseModel):
    count: int = Field(description="How many items were stored (all of the batch, in one transaction)")
    generated_ids: list[str] = Field(
        description="Ids the store generated for the items sent without one, in input order"
    )
    first_seq: int | None = Field(description="Seq of the batch's first event")
    last_seq: int | None = Field(description="Seq of the batch's last event")


class ItemList(BaseModel):
    items: list[Item]


class SearchResult(BaseModel):
    mode: str
    hits: list[SearchHit]
    pending_embeddings: int = Field(
        0, description="Items still waiting for a vector (not searchable semantically yet)"
    )
    note: str | None = Field(
        None, description="Namespaces asked for that the keyword ranking cannot see, and where to search them"
    )


class Cursor(BaseModel):
    consumer: str
    seq: int = Field(description="The consumer's acked cursor: it resumes after this seq")


class _Runtime:
    """What the lifespan opens and the tools use."""

    store: Storage
    notifier: ChangeNotifier
    embedding: EmbeddingWorker | None = None

    def __init__(self) -> None:
        self.gate = ForegroundGate()  # tool calls in flight: the embedder waits for a quiet moment

    async def call(self, function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        try:
            with self.gate.serving():
                return await function(*args, **kwargs)
        except NotFound as exc:  # an answer, not a fault: no "Error calling tool" in the server's log
            raise ToolError(str(exc), quiet=True) from exc
        except ContextStoreError as exc:
            raise ToolError(str(exc)) from exc

    def written(self, seq: int) -> None:
        self.notifier.wake(seq)
        if self.embedding is not None:
            self.embedding.wake()


def build_server(settings: ContextStoreSettings, store: Storage | ContextStore | None = None) -> PepperServer:
    """The context store MCP server; `store`, when given, is used as is and left open at shutdown
    (a blocking `ContextStore` is served through `SqliteStorage`)."""
    if isinstance(store, ContextStore):
        store = SqliteStorage(store, settings.poll_interval_seconds)
    runtime = _Runtime()
    subscriptions = ResourceSubscriptions()
    server = pepper_server(
        "pepper-context-store",
        instructions="Pepper's shared memory: store items in dotted namespaces, query and search them, "
        "follow changes through the event log (read_events/ack) or resource subscriptions.",
        lifespan=_lifespan(settings, store, runtime, subscriptions),
    )
    subscriptions.install(server)
    _add_write_tools(server, runtime)
    _add_read_tools(server, runtime)
    _add_event_tools(server, runtime)
    _add_resources(server, runtime)
    return server


def _lifespan(
    settings: ContextStoreSettings,
    given: Storage | None,
    runtime: _Runtime,
    subscriptions: ResourceSubscriptions,
) -> Callable[[PepperServer], Any]:
    @asynccontextmanager
    async def lifespan(_: PepperServer) -> AsyncIterator[dict[str, Any]]:
        store = given or await open_storage(settings)
        runtime.store = store
        runtime.notifier = ChangeNotifier(store, subscriptions, settings.poll_interval_seconds)
        runtime.embedding = (
            embedding_worker(store, settings, runtime.gate) if store.embedder is not None else None
        )

        async def services(tasks: TaskGroup) -> None:
            await tasks.start(runtime.notifier.run)
            tasks.start_soon(maintain, store, settings.maintenance_interval_seconds)
            if runtime.embedding is not None:
                tasks.start_soon(runtime.embedding.run)

        try:
            async with background(services):
                yield {}
        finally:
            subscriptions.close()
            if given is None:
                # The SDK cancels an in-memory session's task, lifespan and all, when its client
                # leaves: the database is closed (sockets, threads, WAL checkpoint) regardless.
                with anyio.CancelScope(shield=True):
                    await store.aclose()

    return lifespan


def _add_write_tools(server: PepperServer, runtime: _Runtime) -> None:
    @server.tool(annotations=UPSERT)
    async def store(
        namespace: Namespace,
        data: Annotated[JsonValue, Field(description="Any JSON value")] = None,
        text: Annotated[str | None, Field(description="Searchable text")] = None,
        id: Annotated[str | None, Field(description="Upsert key; a uuid is generated when absent")] = None,
        tags: Annotated[list[str] | None, Field(description="Labels to filter on")] = None,
        metadata: Annotated[dict[str, JsonValue] | None, Field(description="Free-form JSON object")] = None,
        ttl_seconds: Annotated[Ttl | None, Field(description="Expire after this many seconds")] = None,
        expires_at: Annotated[Expiry | None, Field(description="Expire at this time")] = None,
    ) -> Written:
        """Store (insert or replace) one item; returns its id and the seq of its event."""
        item = ItemInput(
            namespace=namespace,
            id=id,
            data=data,
            text=text,
            tags=tags or [],
            metadata=metadata or {},
            ttl_seconds=ttl_seconds,
            expires_at=expires_at,
        )
        written = await runtime.call(runtime.store.store, item)
        runtime.written(written.seq)
        return written

    @server.tool(annotations=UPSERT)
    async def store_many(
        items: Annotated[list[ItemInput], Field(description="Items to store in one transaction")],
    ) -> StoredBatch:
        """Store many items in one transaction: all of them are stored, or none."""
        written = await runtime.call(runtime.store.store_many, items)
        if written:
            runtime.written(written[-1].seq)
        return StoredBatch(
            count=len(written),
            generated_ids=[entry.id for entry, item in zip(written, items, strict=True) if item.id is None],
            first_seq=written[0].seq if written else None,
            last_seq=written[-1].seq if written else None,
        )

    @server.tool(annotations=DELETE)
    async def delete(namespace: Namespace, id: ItemId) -> Written:
        """Delete one item; fails when there is no such item."""
        written = await runtime.call(runtime.store.delete, namespace, id)
        runtime.written(written.seq)
        return written


def _add_read_tools(server: PepperServer, runtime: _Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def get(namespace: Namespace, id: ItemId) -> Item:
        """Read one item by namespace and id."""
        return await runtime.call(runtime.store.get, namespace, id)

    @server.tool(annotations=READ_ONLY)
    async def get_many(
        namespace: Namespace,
        ids: Annotated[
            list[str], Field(min_length=1, max_length=MAX_GET_MANY, description="Item ids (1-1000)")
        ],
    ) -> ItemList:
        """Read several items of one namespace by id, in the order asked; ids with no item are left out."""
        return ItemList(items=await runtime.call(_get_many, runtime.store, namespace, ids))

    @server.tool(annotations=READ_ONLY)
    async def query(
        namespaces: Globs = [],  # noqa: B006 - pydantic copies defaults
        tags: Tags = [],  # noqa: B006
        since: Since = None,
        until: Until = None,
        limit: Annotated[int, Field(description="Most items to return (1-1000)")] = 50,
    ) -> ItemList:
        """List items matching the filters, newest first."""
        items = await runtime.call(runtime.store.query, namespaces, tags, since, until, limit)
        return ItemList(items=items)

    @server.tool(annotations=READ_ONLY)
    async def search(
        text: Annotated[str, Field(description="What to look for")],
        mode: Annotated[Literal["semantic", "lexical", "hybrid"], Field(description="Ranking")] = "hybrid",
        namespaces: Globs = [],  # noqa: B006
        tags: Tags = [],  # noqa: B006
        since: Since = None,
        until: Until = None,
        limit: Annotated[int, Field(description="Most hits to return (1-1000)")] = 10,
    ) -> SearchResult:
        """Search item text: lexical (keywords, bm25), semantic (meaning) or hybrid (both fused)."""
        try:  # refused before any work, even before catching up with the embedding queue
            runtime.store.check_search(text, mode, limit, namespaces, tags)
        except ContextStoreError as exc:
            raise ToolError(str(exc)) from exc
        pending = 0
        if mode != "lexical" and runtime.embedding is not None:
            try:
                with anyio.move_on_after(SEARCH_CATCH_UP_SECONDS):
                    await runtime.embedding.flush()
            except Exception:  # the search below reports a broken embedder in words the caller can use
                logger.exception("catching up with queued embeddings failed")
            pending = await runtime.call(runtime.store.pending_embeddings)
        filters = {"namespaces": namespaces, "tags": tags, "since": since, "until": until}
        hits = await runtime.call(runtime.store.search, text, mode, limit, **filters)
        unindexed = getattr(runtime.store, "unindexed_namespaces", ())
        note = unindexed_note(mode, namespaces, unindexed)
        return SearchResult(mode=mode, hits=hits, pending_embeddings=pending, note=note)


def _add_event_tools(server: PepperServer, runtime: _Runtime) -> None:
    @server.tool(annotations=READ_ONLY)
    async def read_events(
        after: Annotated[
            int | None,
            Field(
                le=MAX_SEQ, description="Return events after this seq; default: the consumer's cursor, or 0"
            ),
        ] = None,
        namespaces: Globs = [],  # noqa: B006
        limit: Annotated[int, Field(description="Most events to return (1-1000)")] = 100,
        consumer: Annotated[
            str | None, Field(description="Named consumer whose acked cursor is the default `after`")
        ] = None,
        with_items: Annotated[
            bool, Field(description="Also return the items the page's store events wrote (no get_many)")
        ] = False,
        item_fields: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
            Field(
                max_length=MAX_ITEM_FIELDS,
                description="With with_items: keep only these keys of each item's data, and leave out "
                "its text (a light page, e.g. mail headers without bodies); default: whole items",
            ),
        ] = None,
    ) -> EventPage:
        """Read the event log after a cursor, oldest first (at-least-once: ack what you processed)."""
        page = await runtime.call(runtime.store.read_events, after, namespaces, limit, consumer)
        if with_items:
            stored = [(event.namespace, event.id) for event in page.events if event.op == "store"]
            items = await runtime.call(_items, runtime.store, stored)
            page.items = items if item_fields is None else [_only(item, item_fields) for item in items]
        return page

    @server.tool(annotations=CURSOR)  # the cursor only moves forward
    async def ack(
        consumer: Annotated[str, Field(description="Consumer name, e.g. 'feeds.email'")],
        seq: Annotated[int, Field(le=MAX_SEQ, description="The last seq the consumer has processed")],
    ) -> Cursor:
        """Commit a consumer's cursor: after a restart it resumes after `seq`."""
        return Cursor(consumer=consumer, seq=await runtime.call(runtime.store.ack, consumer, seq))


def _add_resources(server: PepperServer, runtime: _Runtime) -> None:
    @server.resource("context://item/{namespace}/{id}", mime_type="application/json")
    async def item_resource(namespace: str, id: str) -> str:
        """One item as JSON."""
        target = _parse(uris.item_uri(namespace, id))
        item = await _read(runtime, runtime.store.get, target.pattern, target.item_id)
        return item.model_dump_json()

    @server.resource("context://namespace/{pattern}", mime_type="application/json")
    async def namespace_resource(pattern: str) -> str:
        """The newest 100 items whose namespace matches the glob, as a JSON array."""
        target = _parse(uris.namespace_uri(pattern))
        items = await _read(runtime, runtime.store.query, [target.pattern], [], None, None, 100)
        return json.dumps([item.model_dump(mode="json") for item in items])


def _parse(uri: str) -> uris.Target:
    try:
        return uris.parse(uri)
    except ContextStoreError as exc:
        raise ResourceError(str(exc)) from exc


async def _get_many(store: Storage, namespace: str, ids: list[str]) -> list[Item]:
    return await _items(store, [(namespace, item_id) for item_id in ids])


async def _items(store: Storage, keys: list[tuple[str, str]]) -> list[Item]:
    """The items with these (namespace, id) keys that exist, once each, in the order asked."""
    found = []
    for namespace, item_id in dict.fromkeys(keys):
        try:
            found.append(await store.get(namespace, item_id))
        except NotFound:
            continue
    return found


def _only(item: Item, fields: list[str]) -> Item:
    """`item` with only `fields` of its data (when its data is an object) and without its text."""
    data = item.data
    if isinstance(data, dict):
        data = {key: data[key] for key in fields if key in data}
    return item.model_copy(update={"data": data, "text": None})


async def _read(runtime: _Runtime, function: Callable[..., Awaitable[T]], *args: Any) -> T:
    try:
        return await function(*args)
    except ContextStoreError as exc:
        raise ResourceError(str(exc)) from exc
