"""The Composio provider: a Gmail account reached through Composio's Gmail tools, not Google's API.

`ComposioGmailStore` (a `MailStore`, blocking, run in a worker thread) syncs the account into the
same local index and change journal as the other providers, so `list_changes` behaves identically:
the first sync lists every message (`GMAIL_FETCH_EMAILS`, ids and labels only) and remembers the
profile's historyId (`GMAIL_GET_PROFILE`); later syncs read `GMAIL_LIST_HISTORY`, and an expired
historyId (Gmail's 404) falls back to a full listing that journals only the difference. Messages
are read with `GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID` and rebuilt from Gmail's `payload` MIME tree
(attachment bodies are not downloaded: their size is kept). Composio's new-message trigger pushes
to a webhook or websocket, which a local server cannot receive; changes are noticed by polling
the history every `poll_seconds` instead. Sending, drafts, labels and trash map to
`GMAIL_SEND_EMAIL`, `GMAIL_REPLY_TO_THREAD`, `GMAIL_CREATE_EMAIL_DRAFT`, `GMAIL_DELETE_DRAFT`,
`GMAIL_ADD_LABEL_TO_EMAIL`, `GMAIL_CREATE_LABEL` and `GMAIL_MOVE_TO_TRASH`; what those tools cannot
carry (attachments, forwarding) is refused with a `MailProviderError` that names the gap.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import anyio
from anyio.abc import TaskStatus

from mcp_servers.common.composio_client import (
    ComposioAuthError,
    ComposioClient,
    ComposioConfig,
    ComposioError,
    ComposioToolFailedError,
)

from .composio_mime import outgoing_arguments, raw_from_composio
from .indexed import IndexedProvider, MailStore
from .journal import IndexRow, Journal
from .models import Message
from .parsing import MessageParseError, parse_message
from .provider import Changed, MailProviderError, NotFoundError, ProviderUnavailableError
from .settings import GmailSettings

__all__ = ["ComposioGmailProvider", "ComposioGmailStore"]

logger = logging.getLogger(__name__)
PAGE = 500


class ComposioGmailStore:
    """One Gmail account through Composio's Gmail tools (a `MailStore`); blocking."""

    delivers_sent = True

    def __init__(self, client: ComposioClient, journal: Journal) -> None:
        self.client, self.journal = client, journal
        self.names: dict[str, str] = {}
        self._refresh_labels()

    def call(self, slug: str, **arguments: Any) -> dict[str, Any]:
        """Run a Composio Gmail tool for the connected account, translating its failures."""
        try:
            return self.client.execute(slug, {"user_id": "me", **arguments})
        except ComposioAuthError as exc:
            raise ProviderUnavailableError(str(exc)) from exc
        except ComposioToolFailedError as exc:
            upstream_404 = "404" in exc.reason or "not found" in exc.reason.lower()
            if exc.status is None and upstream_404:  # Gmail's own 404, reported by the tool
                raise NotFoundError(
                    f"Gmail (through Composio {slug}) has no such item: {exc.reason}"
                ) from exc
            raise MailProviderError(str(exc)) from exc
        except ComposioError as exc:
            raise ProviderUnavailableError(str(exc)) from exc

    def close(self) -> None:
        self.client.close()
        self.journal.close()

    def _refresh_labels(self) -> None:
        found = self.call("GMAIL_LIST_LABELS")
        self.names = {label["id"]: label.get("name", label["id"]) for label in found.get("labels", [])}

    def labels(self, row: IndexRow) -> list[str]:
        return [self.names.get(label_id, label_id) for label_id in row.extra_labels]

    def folder_labels(self) -> list[str]:
        return sorted(self.names.values())

    # -- sync ------------------------------------------------------------------------------------

    def scan(self) -> int:
        before = self.journal.last_seq()
        history_id = self.journal.meta("history_id")
        if history_id is None:
            self._full_sync()
        else:
            try:
                self._incremental(history_id)
            except NotFoundError:
                logger.warning("Gmail historyId %s expired: resyncing in full through Composio", history_id)
                self._full_sync()
        return self.journal.last_seq() - before

    def _listing(self) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            arguments = {"max_results": PAGE, "include_spam_trash": True, "include_payload": False,
                         "verbose": False} | ({"page_token": token} if token else {})  # fmt: skip
            page = self.call("GMAIL_FETCH_EMAILS", **arguments)
            yield from page.get("messages", [])
            token = page.get("nextPageToken")
            if not token:
                return

    def _full_sync(self) -> None:
        history_id = self.call("GMAIL_GET_PROFILE")["historyId"]
        current = {_id_of(item): item.get("labelIds") for item in self._listing()}
        indexed = self.journal.rows()
        self.journal.begin()
        try:
            for id in indexed.keys() - current.keys():
                self.journal.delete(id)
                self.journal.append("deleted", id, [])
            for id in current.keys() & indexed.keys():
                self._set_label_ids(indexed[id], current[id] or indexed[id].extra_labels)
            for id in sorted(current.keys() - indexed.keys()):
                self._add(id)
            self.journal.set_meta("history_id", str(history_id))
        finally:
            self.journal.commit()

    def _incremental(self, start: str) -> None:
        records: list[dict[str, Any]] = []
        latest, token = int(start), None
        while True:
            page = self.call(
                "GMAIL_LIST_HISTORY", start_history_id=start, max_results=PAGE,
                **({"page_token": token} if token else {}),
            )  # fmt: skip
            records += page.get("history", [])
            latest = max(latest, int(page.get("historyId") or 0))
            token = page.get("nextPageToken")
            if not token:
                break
        self.journal.begin()
        try:
            for record in records:
                self._apply(record)
            self.journal.set_meta("history_id", str(max([latest, *(int(r["id"]) for r in records)])))
        finally:
            self.journal.commit()

    def _apply(self, record: dict[str, Any]) -> None:
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

    def _fetch(self, id: str) -> dict[str, Any]:
        return self.call("GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID", message_id=id, format="full")

    def _add(self, id: str) -> None:
        try:
            found = self._fetch(id)
        except NotFoundError:
            return  # added and deleted between the listing and now: nothing to report
        label_ids = found.get("labelIds") or []
        row = IndexRow.of_error(id, "", "", "", _timestamp(found), "")
        row.extra_labels = label_ids
        labels = self.labels(row)
        try:
            message = parse_message(
                raw_from_composio(found), id=id, labels=labels, thread_id=found.get("threadId")
            )
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

    # -- reading ---------------------------------------------------------------------------------

    def raw(self, row: IndexRow) -> bytes:
        return raw_from_composio(self._fetch(row.id))

    def read(self, row: IndexRow) -> Message:
        try:
            return parse_message(self.raw(row), id=row.id, labels=self.labels(row), thread_id=row.thread_id)
        except MessageParseError as exc:
            raise MailProviderError(f"message {row.id} cannot be read: {exc.reason}") from exc
        except ValueError as exc:
            raise MailProviderError(f"message {row.id} cannot be read: {exc}") from exc

    # -- changing --------------------------------------------------------------------------------

    def _label_id(self, name: str) -> str:
        for label_id, label_name in self.names.items():
            if name in (label_id, label_name):
                return label_id
        created = self.call("GMAIL_CREATE_LABEL", label_name=name)
        self.names[created["id"]] = created.get("name", name)
        return created["id"]

    def relabel(self, row: IndexRow, add: set[str], remove: set[str]) -> list[str]:
        found = self.call(
            "GMAIL_ADD_LABEL_TO_EMAIL", message_id=row.id,
            add_label_ids=[self._label_id(n) for n in sorted(add)],
            remove_label_ids=[self._label_id(n) for n in sorted(remove)],
        )  # fmt: skip
        current = set(row.extra_labels) | {self._label_id(n) for n in add}
        label_ids = found.get("labelIds") or sorted(current - {self._label_id(n) for n in remove})
        self.journal.begin()
        self._set_label_ids(row, label_ids)
        self.journal.commit()
        return self.labels(row)

    def deliver(self, label: str, raw: bytes) -> str:
        outgoing = outgoing_arguments(raw)
        thread_id = self._thread_of(outgoing.pop("in_reply_to"))
        if label == "DRAFT":
            draft = self.call(
                "GMAIL_CREATE_EMAIL_DRAFT", **outgoing, **({"thread_id": thread_id} if thread_id else {})
            )
            message_id = draft.get("message", {}).get("id") or draft["id"]
            self.journal.set_meta(f"draft:{message_id}", draft["id"])
            return message_id
        if thread_id:
            body = outgoing.pop("body")
            del outgoing["subject"]  # the thread's subject is kept
            sent = self.call("GMAIL_REPLY_TO_THREAD", thread_id=thread_id, message_body=body, **outgoing)
        else:
            sent = self.call("GMAIL_SEND_EMAIL", **outgoing)
        return str(sent.get("id") or sent.get("messageId"))

    def _thread_of(self, in_reply_to: str | None) -> str | None:
        if not in_reply_to:
            return None
        found = self.call("GMAIL_FETCH_EMAILS", query=f"rfc822msgid:{in_reply_to}", max_results=1,
                          include_payload=False, verbose=False)  # fmt: skip
        messages = found.get("messages") or []
        return messages[0].get("threadId") if messages else None

    def remove(self, row: IndexRow) -> None:
        draft_id = self.journal.meta(f"draft:{row.id}")
        if draft_id:
            self.call("GMAIL_DELETE_DRAFT", draft_id=draft_id)
        else:
            self.call("GMAIL_MOVE_TO_TRASH", message_id=row.id)


class ComposioGmailProvider(IndexedProvider):
    """A Gmail account through Composio; see the module docstring."""

    def __init__(self, settings: GmailSettings, config: ComposioConfig) -> None:
        super().__init__(None)
        self.settings, self.config = settings, config
        account = f"{config.base_url}|{config.user_id}|{config.connected_account_id}"
        self.index_path = (
            settings.state_dir / f"composio-{hashlib.sha256(account.encode()).hexdigest()[:12]}.sqlite3"
        )

    def _open_store(self) -> MailStore:
        client = ComposioClient(self.config)
        try:
            return ComposioGmailStore(client, Journal(self.index_path))
        except BaseException:
            client.close()
            raise

    async def watch(
        self, changed: Changed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        while True:
            await anyio.sleep(self.settings.poll_seconds)
            try:
                if await self.scan():
                    await changed()
            except MailProviderError as exc:
                logger.warning(
                    "Composio Gmail sync failed (%s); retrying in %.0f s", exc, self.settings.poll_seconds
                )


def _id_of(item: dict[str, Any]) -> str:
    return str(item.get("messageId") or item["id"])


def _timestamp(found: dict[str, Any]) -> float:
    stamp = str(found.get("messageTimestamp") or found.get("internalDate") or "0")
    if stamp.isdigit():
        return int(stamp) / 1000
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
