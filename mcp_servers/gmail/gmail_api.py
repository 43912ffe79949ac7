"""The Gmail API provider: OAuth, incremental sync with `users.history.list`, and Gmail's own labels.

The blocking google-api-python-client runs in a worker thread (`GmailApiStore`, a `MailStore`),
synced into the same local index and change journal as the other providers. The first sync lists
every message; later syncs read `users.history.list` from the stored historyId. When Gmail says
the historyId has expired (HTTP 404), the store resyncs in full and journals only the difference
with its index, so nothing is skipped or delivered twice. Changes are noticed by polling history
every `poll_seconds`, and with a Pub/Sub topic configured also at once: `users.watch` is
registered and renewed before it expires (daily; Gmail's last 7 days), and a push to
`/gmail/push` (`gmail_push`) wakes the watcher. Sending goes through `users.messages.send`;
Gmail files the copy under SENT itself.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskStatus
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from .gmail_auth import READ_SCOPES, SEND_SCOPES, load_credentials
from .gmail_push import PushNotice
from .indexed import IndexedProvider, MailStore
from .journal import IndexRow, Journal
from .models import Message
from .parsing import MessageParseError, parse_message
from .provider import Changed, MailProviderError, NotFoundError, ProviderUnavailableError
from .settings import GmailSettings

__all__ = ["GmailApiProvider", "GmailApiStore"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
RENEW_SECONDS = 24 * 3600


def _translated(call: Callable[[], T]) -> T:
    try:
        return call()
    except HttpError as exc:
        status = exc.resp.status
        if status == 404:
            raise NotFoundError(f"Gmail has no such item: {exc.reason}") from exc
        if status in (401, 403):
            raise ProviderUnavailableError(
                f"Gmail refused the request ({status} {exc.reason}): the token lacks a scope or was revoked; "
                "start with --allow-send for modify/send scopes, or delete the token and consent again"
            ) from exc
        raise MailProviderError(f"Gmail API error {status}: {exc.reason}") from exc
    except OSError as exc:
        raise ProviderUnavailableError(f"cannot reach the Gmail API: {exc}") from exc


class GmailApiStore:
    """One Gmail account through the Gmail API (a `MailStore`); blocking."""

    delivers_sent = True

    def __init__(self, service: Any, journal: Journal) -> None:
        self.users = service.users()
        self.journal = journal
        self.names: dict[str, str] = {}
        self._refresh_labels()

    def close(self) -> None:
        self.journal.close()

    def _refresh_labels(self) -> None:
        found = _translated(lambda: self.users.labels().list(userId="me").execute())
        self.names = {label["id"]: label["name"] for label in found.get("labels", [])}

    def labels(self, row: IndexRow) -> list[str]:
        return [self.names.get(label_id, label_id) for label_id in row.extra_labels]

    def folder_labels(self) -> list[str]:
        return sorted(self.names.values())

    def scan(self) -> int:
        before = self.journal.last_seq()
        history_id = self.journal.meta("history_id")
        if history_id is None:
            self._full_sync()
        else:
            try:
                self._incremental(history_id)
            except NotFoundError:
                logger.warning("Gmail historyId %s expired: resyncing in full", history_id)
                self._full_sync()
        return self.journal.last_seq() - before

    def _pages(self, request: Callable[[str | None], dict], key: str) -> Iterator[dict]:
        token: str | None = None
        while True:
            page = _translated(partial(request, token))
            yield from page.get(key, [])
            token = page.get("nextPageToken")
            if not token:
                return

    def _full_sync(self) -> None:
        history_id = _translated(lambda: self.users.getProfile(userId="me").execute())["historyId"]
        listed = self._pages(
            lambda token: (
                self.users.messages().list(userId="me", includeSpamTrash=True, pageToken=token).execute()
            ),
            "messages",
        )
        current = {item["id"] for item in listed}
        indexed = self.journal.rows()
        self.journal.begin()
        try:
            for id in indexed.keys() - current:
                self.journal.delete(id)
                self.journal.append("deleted", id, [])
            for id in current & indexed.keys():
                self._set_label_ids(indexed[id], self._get(id, "minimal").get("labelIds", []))
            for id in sorted(current - indexed.keys()):
                self._add(id)
            self.journal.set_meta("history_id", str(history_id))
        finally:
            self.journal.commit()

    def _incremental(self, start: str) -> None:
        records = list(
            self._pages(
                lambda token: (
                    self.users.history().list(userId="me", startHistoryId=start, pageToken=token).execute()
                ),
                "history",
            )
        )
        latest = _translated(lambda: self.users.getProfile(userId="me").execute())["historyId"]
        self.journal.begin()
        try:
            for record in records:
                self._apply(record)
            self.journal.set_meta("history_id", str(max([int(latest), *(int(r["id"]) for r in records)])))
        finally:
            self.journal.commit()

    def _apply(self, record: dict) -> None:
        for item in record.get("messagesAdded", []):
            if self.journal.row(item["message"]["id"]) is None:
                self._add(item["message"]["id"])
        for key in ("labelsAdded", "labelsRemoved"):
            for item in record.get(key, []):
                row = self.journal.row(item["message"]["id"])
                if row is not None:
                    self._set_label_ids(row, item["message"].get("labelIds", []))
        for item in record.get("messagesDeleted", []):
            if self.journal.row(item["message"]["id"]) is not None:
                self.journal.delete(item["message"]["id"])
                self.journal.append("deleted", item["message"]["id"], [])

    def _get(self, id: str, format: str) -> dict:
        return _translated(lambda: self.users.messages().get(userId="me", id=id, format=format).execute())

    def _add(self, id: str) -> None:
        try:
            found = self._get(id, "raw")
        except NotFoundError:
            return  # added and deleted between the listing and now: nothing to report
        label_ids = found.get("labelIds", [])
        row = IndexRow.of_error(id, "", "", "", int(found.get("internalDate", 0)) / 1000, "")
        row.extra_labels = label_ids
        labels = self.labels(row)
        try:
            raw = base64.urlsafe_b64decode(found.get("raw", "") + "==")
            message = parse_message(raw, id=id, labels=labels, thread_id=found.get("threadId"))
        except (MessageParseError, ValueError) as exc:
            row.error = getattr(exc, "reason", str(exc))
            self.journal.upsert(row)
            self.journal.append("added", id, labels, row.error)
            return
        indexed = IndexRow.of_message(message, "", "", "")
        indexed.extra_labels = label_ids
        self.journal.upsert(indexed)
        self.journal.append("added", id, labels)

    def _set_label_ids(self, row: IndexRow, label_ids: list[str]) -> None:
        if sorted(row.extra_labels) != sorted(label_ids):
            row.extra_labels = label_ids
            self.journal.upsert(row)
            self.journal.append("labels_changed", row.id, self.labels(row))

    def raw(self, row: IndexRow) -> bytes:
        return base64.urlsafe_b64decode(self._get(row.id, "raw").get("raw", "") + "==")

    def read(self, row: IndexRow) -> Message:
        try:
            return parse_message(self.raw(row), id=row.id, labels=self.labels(row), thread_id=row.thread_id)
        except MessageParseError as exc:
            raise MailProviderError(f"message {row.id} cannot be read: {exc.reason}") from exc

    def _label_id(self, name: str) -> str:
        for label_id, label_name in self.names.items():
            if name in (label_id, label_name):
                return label_id
        created = _translated(lambda: self.users.labels().create(userId="me", body={"name": name}).execute())
        self.names[created["id"]] = created["name"]
        return created["id"]

    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]:
        body = {"addLabelIds": [self._label_id(n) for n in sorted(add)],
                "removeLabelIds": [self._label_id(n) for n in sorted(remove)]}  # fmt: skip
        found = _translated(lambda: self.users.messages().modify(userId="me", id=row.id, body=body).execute())
        self.journal.begin()
        self._set_label_ids(row, found.get("labelIds", []))
        self.journal.commit()
        return self.labels(row)

    def deliver(self, label: str, raw: bytes) -> str:
        encoded = base64.urlsafe_b64encode(raw).decode()
        if label == "DRAFT":
            body = {"message": {"raw": encoded}}
            draft = _translated(lambda: self.users.drafts().create(userId="me", body=body).execute())
            self.journal.set_meta(f"draft:{draft['message']['id']}", draft["id"])
            return draft["message"]["id"]
        sent = _translated(lambda: self.users.messages().send(userId="me", body={"raw": encoded}).execute())
        return sent["id"]

    def start_watch(self, topic: str) -> float:
        """Ask Gmail to publish mailbox changes to `topic` (users.watch); returns the expiry (epoch s)."""
        body = {"topicName": topic}
        found = _translated(lambda: self.users.watch(userId="me", body=body).execute())
        return int(found["expiration"]) / 1000

    def stop_watch(self) -> None:
        _translated(lambda: self.users.stop(userId="me").execute())

    def remove(self, row: IndexRow) -> None:
        draft_id = self.journal.meta(f"draft:{row.id}")
        if draft_id:
            _translated(lambda: self.users.drafts().delete(userId="me", id=draft_id).execute())
        else:
            _translated(lambda: self.users.messages().trash(userId="me", id=row.id).execute())


class GmailApiProvider(IndexedProvider):
    """A Gmail account through the Gmail API."""

    def __init__(self, settings: GmailSettings) -> None:
        super().__init__(None)
        self.settings = settings
        self.token_file = settings.gmail_token_file or settings.state_dir / "gmail-token.json"
        account = hashlib.sha256(str(self.token_file.resolve()).encode()).hexdigest()[:12]
        self.index_path = settings.state_dir / f"gmail-{account}.sqlite3"
        self._pushed: anyio.Event | None = None  # made by `watch`: an Event needs the event loop

    def _open_store(self) -> MailStore:
        scopes = SEND_SCOPES if self.settings.allow_send else READ_SCOPES
        credentials = load_credentials(
            self.token_file, scopes, self.settings.gmail_client_secrets, self.settings.gmail_token_uri
        )
        options = (
            {"api_endpoint": self.settings.gmail_api_endpoint} if self.settings.gmail_api_endpoint else None
        )
        service = build("gmail", "v1", credentials=credentials, static_discovery=True, client_options=options)
        return GmailApiStore(service, Journal(self.index_path))

    def pushed(self, notice: PushNotice) -> None:
        """A Pub/Sub push arrived (`gmail_push`): sync now rather than at the next poll."""
        if self._pushed is None:
            logger.info("Gmail push before the watcher started: its first sync will see the change")
        else:
            self._pushed.set()

    async def watch(
        self, changed: Changed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        topic = self.settings.gmail_pubsub_topic
        self._pushed = pushed = anyio.Event()
        renew_at = await self._start_watch(topic) if topic else math.inf
        task_status.started()
        try:
            while True:
                wait = min(self.settings.poll_seconds, max(renew_at - time.time(), 0))
                with anyio.move_on_after(wait):
                    await pushed.wait()
                self._pushed = pushed = anyio.Event()
                if topic and time.time() >= renew_at:
                    renew_at = await self._start_watch(topic)
                try:
                    if await self.scan():
                        await changed()
                except MailProviderError as exc:
                    logger.warning(
                        "Gmail sync failed (%s); retrying in %.0f s", exc, self.settings.poll_seconds
                    )
        finally:
            if topic:
                with anyio.move_on_after(10, shield=True):
                    await self._stop_watch()

    async def _start_watch(self, topic: str) -> float:
        """Register (or renew) the push watch; returns when to renew it: halfway to its expiry, and
        at least daily, as Google advises. A failure leaves polling on and retries at the next poll."""
        try:
            expires = await self._run(lambda store: store.start_watch(topic))  # type: ignore[attr-defined]
        except MailProviderError as exc:
            logger.warning("Gmail users.watch on %s failed (%s); polling, retrying later", topic, exc)
            return time.time() + self.settings.poll_seconds
        remaining = expires - time.time()
        logger.info("Gmail pushes changes to %s for %.1f h", topic, remaining / 3600)
        return time.time() + min(remaining / 2, RENEW_SECONDS)

    async def _stop_watch(self) -> None:
        try:
            await self._run(lambda store: store.stop_watch())  # type: ignore[attr-defined]
        except MailProviderError as exc:
            logger.warning("Gmail users.stop failed (%s); the watch expires by itself", exc)
