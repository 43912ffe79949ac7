"""The ingest bridge: provider changes into the context store's `raw.*` namespaces.

Mail: `list_changes(since=cursor)` on the gmail server; the added or relabelled messages of a page are
read with one `get_messages` call and stored, in one `store_many`, as `raw.email/<provider id>`; a
deleted one is deleted. Calendar: the events
of the coming days from `upcoming` are stored as `raw.calendar/<event id>` when they are new or
changed (a hash in the item's metadata tells), and ones that vanished are deleted. The mail cursor is
saved in the context store (`state.cursors/gmail`, with the count stored so far) only after the page
it covers is stored, so a crash repeats work and never skips it; stable ids make the repeat harmless.
Given the event log, mail ingest bounds triage on a first sync (`orchestrator.feeds.first_sync`);
given a `LiveMail`, a second lane stores new mail ahead of the backlog (`orchestrator.feeds.live_mail`).
The backfill of old mail takes at most `BACKFILL_SHARE` of the time: after each of its pages it waits
as long again, so that new mail and the user's questions find the machine free.
An account other than `default` (docs/decisions.md, D1) stores `raw.email/<account>:<provider id>`
with `account` and `provider_id` in the data, and keeps its cursor as `state.cursors/gmail.<account>`.
Both run on wake-ups
(`gmail://inbox`, `calendar://upcoming`) with a periodic look as a safety net.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from orchestrator.accounts.names import DEFAULT_ACCOUNT, connection_name, scoped_id
from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.first_sync import BACKFILL, SyncProgress, needs_triage, wait_for_triage
from orchestrator.feeds.live_mail import LiveMail
from orchestrator.mcp_clients import ServerConnection, ServerUnavailable, ToolCallFailed, ToolCallTimeout
from orchestrator.scheduler.user_lane import UserLane

__all__ = ["CalendarIngest", "MailIngest", "follow"]

logger = logging.getLogger(__name__)
CURSORS = "state.cursors"
READ_BATCH = 100  # the gmail server's get_messages limit
SYNCED_AT_SLACK = 3600.0  # an idle sync refreshes the stored end of the last sync at most this often
BACKFILL_SHARE = 0.5  # of the time the backfill may take: after each page it waits as long again


def mail_text(message: dict[str, Any]) -> str:
    """What search should find a message by: subject, sender, and the new text."""
    sender = message.get("from") or {}
    parts = [
        message.get("subject") or "",
        f"{sender.get('name', '')} <{sender.get('email', '')}>",
        message.get("text") or "",
    ]
    return "\n".join(parts)[:8000]


class MailIngest:
    """See the module docstring; with a `log`, also `orchestrator.feeds.first_sync`'s bounded triage."""

    def __init__(
        self,
        gmail: ServerConnection,
        items: ContextItems,
        page_size: int = 100,
        *,
        log: EventLog | None = None,
        triage_days: float = 14.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        lane: UserLane | None = None,
        live: LiveMail | None = None,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self._gmail = gmail
        self.account = account
        self._cursor_id = connection_name("gmail", account)
        self._lane = lane
        self.live = live
        self._live_cursor: str | None = None
        self._items = items
        self._page_size = page_size
        self._log = log
        self._triage_days = triage_days
        self._now = now
        self._triage_settled = log is None  # True once the feed has triaged all recent mail stored
        self.stored = 0
        self.failed: list[str] = []
        self.progress = SyncProgress()
        self.backfill_paused = 0.0  # seconds the backfill waited between its pages (BACKFILL_SHARE)
        self._gap_start: datetime | None = None
        self._saved: dict[str, Any] | None = None  # the cursor's item as last stored
        self.cursor: str | None = None  # where the last sync stopped
        self.newest_at: float | None = None  # the date of the newest message stored (epoch s)

    async def sync(self) -> int:
        """Bring `raw.email` up to date with the mailbox; returns how many changes were applied."""
        if self._saved is None:  # read once: this ingest is its cursor's only writer
            saved = await self._items.get(CURSORS, self._cursor_id)
            self._saved = saved.data if saved is not None and isinstance(saved.data, dict) else {}
        state = self._saved
        cursor = state.get("cursor")
        self.progress.stored = int(state.get("stored", 0))
        synced_at = state.get("synced_at")  # the end of the last completed sync: mail since is triaged
        self.newest_at = _later(self.newest_at, state.get("newest_at"))
        self._gap_start = datetime.fromtimestamp(synced_at, UTC) if synced_at is not None else None
        applied = 0
        while True:
            if self._lane is not None:  # the user's message first
                await self._lane.yield_to_user()
            started = anyio.current_time()
            arguments: dict[str, Any] = {"limit": self._page_size}
            if cursor:
                arguments["since"] = cursor
            page = (await self._gmail.call_tool("list_changes", arguments)).structured or {}
            changes = page.get("changes", [])
            items = await self._page_items(self.live.claim_main(changes) if self.live else changes)
            applied += len(page.get("changes", []))
            self.progress.after_page(page, len(page.get("changes", [])))
            cursor = page.get("cursor", cursor)
            done = not page.get("has_more") and not page.get("indexing")
            synced_at = self._now().timestamp() if done else synced_at
            self.cursor = cursor
            saved_cursor = {"cursor": cursor, "stored": self.progress.stored, "synced_at": synced_at,
                            "newest_at": self.newest_at}  # fmt: skip
            if items or changes or not _same_cursor(self._saved, saved_cursor):
                await self._store(items, {"namespace": CURSORS, "id": self._cursor_id, "data": saved_cursor})
                self._saved = saved_cursor
            if not page.get("has_more"):
                return applied
            if self.progress.phase == "backfill":  # old mail leaves the machine to new mail and the user
                pause = (anyio.current_time() - started) * (1 / BACKFILL_SHARE - 1)
                self.backfill_paused += pause
                await anyio.sleep(pause)

    async def sync_live(self) -> int:
        """While the main lane is behind (a first sync, a catch-up), store the live changes at once
        and hand the new mail to the feed; returns how many changes this lane applied."""
        if self.live is None or self.progress.phase == "done":
            return 0
        if self._live_cursor is None:  # from where the main lane stands: everything before is its
            saved = await self._items.get(CURSORS, self._cursor_id)
            self._live_cursor = saved.data.get("cursor") if saved and isinstance(saved.data, dict) else None
        applied = 0
        while True:
            arguments: dict[str, Any] = {"limit": self._page_size, "live": True}
            if self._live_cursor:
                arguments["since"] = self._live_cursor
            try:
                page = (await self._gmail.call_tool("list_changes", arguments)).structured or {}
            except ToolCallFailed:  # a journal rebuilt under the cursor: start again from the main lane's
                self._live_cursor = None
                raise
            claimed = self.live.claim_live(page.get("changes", []))
            try:
                items = await self._page_items(claimed)
                await self._items.put_many(items)
            except BaseException:
                self.live.release(claimed)
                raise
            self.live.hand_over([item["id"] for item in items if BACKFILL not in item["tags"]])
            self._live_cursor, applied = page.get("cursor", self._live_cursor), applied + len(claimed)
            if not page.get("has_more"):
                return applied

    async def _store(self, items: list[dict[str, Any]], cursor: dict[str, Any]) -> None:
        """Store a page, its cursor with its last write: mail to triage first; backfill only once the
        feed has triaged what came before."""
        backfill = [item for item in items if BACKFILL in item["tags"]]
        recent = [item for item in items if BACKFILL not in item["tags"]]
        received = [item for item in backfill if "SENT" not in item["tags"]]  # old Sent mail: learned at once
        if received and not self._triage_settled:
            await self._items.put_many(recent)
            recent = []
            assert self._log is not None
            await wait_for_triage(self._log)
            self._triage_settled = True
            self.progress.phase = "backfill"
        await self._items.put_many([*recent, *backfill, cursor])
        self.progress.backfill += len(backfill)

    async def _page_items(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The `raw.email` items of a page of changes: deletions applied, every message still there
        read in one `get_messages` call (a later change of the same message wins)."""
        wanted: dict[str, None] = {}
        for change in changes:
            message_id = change["message_id"]
            wanted.pop(message_id, None)
            if change["kind"] == "deleted":
                await self._items.delete("raw.email", scoped_id(self.account, message_id))
            elif change.get("error"):
                self.failed.append(f"{message_id}: {change['error']}")
            else:
                wanted[message_id] = None
        messages = await self._read(list(wanted))
        return [self._item(messages[id]) for id in wanted if id in messages]

    async def _read(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The messages by id, `READ_BATCH` to a call; ids the server cannot read are skipped."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), READ_BATCH):
            batch = (
                await self._gmail.call_tool("get_messages", {"ids": ids[start : start + READ_BATCH]})
            ).structured or {}
            found.update((message["id"], message) for message in batch.get("messages", []))
            self.failed += [f"{id}: {why}" for id, why in batch.get("missing", {}).items()]
        return found

    def _item(self, message: dict[str, Any]) -> dict[str, Any]:
        self.stored += 1
        try:
            self.newest_at = _later(
                self.newest_at, datetime.fromisoformat(str(message.get("date"))).timestamp()
            )
        except ValueError:
            pass  # no usable date: it says nothing of how far the ingest got
        labels = [label for label in message.get("labels", []) if label][:31]
        if self._log is not None and not needs_triage(
            message, self._now(), self._triage_days, self._gap_start
        ):
            labels.append(BACKFILL)
        stored_id = scoped_id(self.account, message["id"])
        if stored_id != message["id"]:  # the provider's id stays, to call the account's server with
            message = {**message, "id": stored_id, "provider_id": message["id"]}
        return {
            "namespace": "raw.email",
            "id": stored_id,
            "data": {**message, "account": self.account},
            "text": mail_text(message),
            "tags": labels,
        }


def _same_cursor(saved: dict[str, Any] | None, now: dict[str, Any]) -> bool:
    """Whether a sync that changed nothing can leave the stored cursor as it is: its end time
    (`synced_at`) may lag by up to SYNCED_AT_SLACK, far within the day of slack it is read with."""
    if saved is None or any(saved.get(key) != now.get(key) for key in ("cursor", "stored", "newest_at")):
        return False
    before, after = saved.get("synced_at"), now.get("synced_at")
    return before is not None and after is not None and after - before < SYNCED_AT_SLACK


def _later(one: float | None, other: float | None) -> float | None:
    return max((moment for moment in (one, other) if moment is not None), default=None)


class CalendarIngest:
    def __init__(
        self,
        calendar: ServerConnection,
        items: ContextItems,
        horizon: timedelta = timedelta(days=2),
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self._calendar = calendar
        self.account = account
        self._items = items
        self._horizon = horizon
        self.stored = 0

    async def sync(self) -> int:
        """Store new or changed upcoming events, delete ones that vanished; returns the writes."""
        listing = await self._calendar.call_tool("upcoming", {"within": int(self._horizon.total_seconds())})
        events = (listing.structured or {}).get("events", [])
        stored = await self._items.query(["raw.calendar"], limit=1000)
        known = {item.id: item for item in stored if _account(item.data) == self.account}
        writes = 0
        for event in events:
            event = self._scoped(event)
            digest = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:16]
            previous = known.pop(event["id"], None)
            if previous is not None and previous.metadata.get("hash") == digest:
                continue
            text = "\n".join(
                filter(None, [event.get("title"), event.get("location"), event.get("description")])
            )
            await self._items.put("raw.calendar", event["id"], event, text[:8000], metadata={"hash": digest})
            writes += 1
        for stale in known.values():
            await self._items.delete("raw.calendar", stale.id)
            writes += 1
        self.stored += writes
        return writes

    def _scoped(self, event: dict[str, Any]) -> dict[str, Any]:
        stored_id = scoped_id(self.account, event["id"])
        if stored_id != event["id"]:
            event = {**event, "id": stored_id, "provider_id": event["id"]}
        return {**event, "account": self.account}


def _account(data: Any) -> str:
    return str(data.get("account") or DEFAULT_ACCOUNT) if isinstance(data, dict) else DEFAULT_ACCOUNT


async def follow(source: ServerConnection, uri: str, sync: Any, every: float = 60.0) -> None:
    """Run `sync()` whenever `uri` changes on `source`, and at least every `every` seconds."""
    wake = anyio.Event()

    def wake_up() -> None:
        wake.set()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(source.watch, uri, wake_up)
        while True:
            with anyio.move_on_after(every):
                await wake.wait()
            wake = anyio.Event()
            try:
                await sync()
            except (ServerUnavailable, ToolCallFailed, ToolCallTimeout) as exc:
                logger.warning("sync of %s failed, will retry: %s", uri, exc)
