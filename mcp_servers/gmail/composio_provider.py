"""The Composio provider: a Gmail account reached through Composio's Gmail tools, not Google's API.

`ComposioGmailOperations` runs the Gmail operations of the shared `GmailStore` (`gmail_store`, the
same sync, index and change journal as the Gmail API provider) through Composio's GMAIL_* tools:
the listing is `GMAIL_FETCH_EMAILS` (ids and labels only, spam and trash included), the
profile (historyId, messagesTotal) `GMAIL_GET_PROFILE`, history `GMAIL_LIST_HISTORY`; a Gmail 404 that a tool reports (an
expired historyId, a deleted message) is raised as `NotFoundError`, so the store resyncs as usual.
Messages are read with `GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID` and rebuilt from Gmail's `payload` MIME
tree (attachment bodies are not downloaded: their size is kept). Composio's new-message trigger
pushes to a webhook or websocket, which a local server cannot receive; changes are noticed by
polling the history every `poll_seconds` instead. Sending, drafts, labels and trash map to
`GMAIL_SEND_EMAIL`, `GMAIL_REPLY_TO_THREAD`, `GMAIL_CREATE_EMAIL_DRAFT`, `GMAIL_DELETE_DRAFT`,
`GMAIL_ADD_LABEL_TO_EMAIL`, `GMAIL_CREATE_LABEL` and `GMAIL_MOVE_TO_TRASH`; what those tools cannot
carry (attachments, forwarding) is refused with a `MailProviderError` that names the gap. HTML mail
goes as the send tool's body with `is_html`. Renaming and deleting labels are refused (no verified
tool for them); drafts written outside Pepper are not listed by id, so deleting one trashes it.
"""

from __future__ import annotations

import hashlib
import logging
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

from .account_status import AccountHealth
from .composio_mime import outgoing_arguments, raw_from_composio
from .gmail_store import Fetched, GmailStore
from .indexed import IndexedProvider, MailStore
from .journal import Journal
from .provider import Changed, MailProviderError, NotFoundError, ProviderUnavailableError
from .settings import GmailSettings

__all__ = ["ComposioGmailOperations", "ComposioGmailProvider"]

logger = logging.getLogger(__name__)
PAGE = 500
_NO_LABEL_MANAGEMENT = (
    "renaming and deleting labels are not available with the composio provider (its Gmail tools for "
    "them are not verified): do it in Gmail, or use the gmail provider"
)


class ComposioGmailOperations:
    """`GmailOperations` over Composio's Gmail tools; see the module docstring."""

    def __init__(self, client: ComposioClient) -> None:
        self.client = client

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

    def list_labels(self) -> list[dict[str, Any]]:
        return self.call("GMAIL_LIST_LABELS").get("labels", [])

    def create_label(self, name: str) -> dict[str, Any]:
        return self.call("GMAIL_CREATE_LABEL", label_name=name)

    def profile(self) -> dict[str, Any]:
        return self.call("GMAIL_GET_PROFILE")

    def list_messages(self, page_token: str | None) -> dict[str, Any]:
        arguments = {"max_results": PAGE, "include_spam_trash": True, "include_payload": False,
                     "verbose": False} | ({"page_token": page_token} if page_token else {})  # fmt: skip
        page = self.call("GMAIL_FETCH_EMAILS", **arguments)
        messages = [
            {"id": _id_of(item), "labelIds": item.get("labelIds")} for item in page.get("messages", [])
        ]
        return {"messages": messages, "nextPageToken": page.get("nextPageToken")}

    def list_history(self, start: str, page_token: str | None) -> dict[str, Any]:
        return self.call("GMAIL_LIST_HISTORY", start_history_id=start, max_results=PAGE,
                         **({"page_token": page_token} if page_token else {}))  # fmt: skip

    def _fetch(self, id: str) -> dict[str, Any]:
        return self.call("GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID", message_id=id, format="full")

    def label_ids(self, ids: list[str]) -> dict[str, list[str] | MailProviderError]:
        """One tool call each: Composio has no batch read."""
        found: dict[str, list[str] | MailProviderError] = {}
        for id in ids:
            try:
                found[id] = self._fetch(id).get("labelIds") or []
            except MailProviderError as exc:
                found[id] = exc
        return found

    def get_message(self, id: str) -> Fetched:
        found = self._fetch(id)
        return Fetched.decoding(
            found.get("labelIds") or [], found.get("threadId"), _timestamp(found),
            lambda: raw_from_composio(found),
        )  # fmt: skip

    def get_messages(self, ids: list[str]) -> dict[str, Fetched | MailProviderError]:
        """One tool call each: Composio has no batch read."""
        found: dict[str, Fetched | MailProviderError] = {}
        for id in ids:
            try:
                found[id] = self.get_message(id)
            except MailProviderError as exc:
                found[id] = exc
        return found

    def modify(self, id: str, add: list[str], remove: list[str]) -> list[str] | None:
        found = self.call(
            "GMAIL_ADD_LABEL_TO_EMAIL", message_id=id, add_label_ids=add, remove_label_ids=remove
        )
        return found.get("labelIds") or None

    def batch_modify(self, ids: list[str], add: list[str], remove: list[str]) -> None:
        for id in ids:  # one GMAIL_ADD_LABEL_TO_EMAIL each: a batch tool's arguments are unverified
            self.modify(id, add, remove)

    def trash(self, id: str) -> None:
        self.call("GMAIL_MOVE_TO_TRASH", message_id=id)

    def send(self, raw: bytes, thread_id: str | None = None) -> str:
        outgoing, thread_id = self._outgoing(raw, thread_id)
        if thread_id:
            body = outgoing.pop("body")
            del outgoing["subject"]  # the thread's subject is kept
            sent = self.call("GMAIL_REPLY_TO_THREAD", thread_id=thread_id, message_body=body, **outgoing)
        else:
            sent = self.call("GMAIL_SEND_EMAIL", **outgoing)
        return str(sent.get("id") or sent.get("messageId"))

    def create_draft(self, raw: bytes, thread_id: str | None = None) -> tuple[str, str]:
        outgoing, thread_id = self._outgoing(raw, thread_id)
        draft = self.call(
            "GMAIL_CREATE_EMAIL_DRAFT", **outgoing, **({"thread_id": thread_id} if thread_id else {})
        )
        return draft["id"], draft.get("message", {}).get("id") or draft["id"]

    def delete_draft(self, draft_id: str) -> None:
        self.call("GMAIL_DELETE_DRAFT", draft_id=draft_id)

    def draft_ids(self) -> dict[str, str]:
        return {}  # only drafts made through Pepper are known (by their id); others are trashed

    def rename_label(self, label_id: str, name: str) -> None:
        raise MailProviderError(_NO_LABEL_MANAGEMENT)

    def delete_label(self, label_id: str) -> None:
        raise MailProviderError(_NO_LABEL_MANAGEMENT)

    def _outgoing(self, raw: bytes, thread_id: str | None = None) -> tuple[dict[str, Any], str | None]:
        """The send/draft tools' arguments, and the thread a reply joins (the index's, else found
        by its In-Reply-To)."""
        outgoing = outgoing_arguments(raw)
        in_reply_to = outgoing.pop("in_reply_to")
        if thread_id or not in_reply_to:
            return outgoing, thread_id
        found = self.call("GMAIL_FETCH_EMAILS", query=f"rfc822msgid:{in_reply_to}", max_results=1,
                          include_payload=False, verbose=False)  # fmt: skip
        messages = found.get("messages") or []
        return outgoing, messages[0].get("threadId") if messages else None


class ComposioGmailProvider(IndexedProvider):
    """A Gmail account through Composio; see the module docstring."""

    def __init__(self, settings: GmailSettings, config: ComposioConfig) -> None:
        super().__init__(None)
        self.settings, self.config = settings, config
        account = f"{config.base_url}|{config.user_id}|{config.connected_account_id}"
        self._account_health = AccountHealth("composio", config.connected_account_id or config.user_id or "")
        self.index_path = (
            settings.state_dir / f"composio-{hashlib.sha256(account.encode()).hexdigest()[:12]}.sqlite3"
        )

    def _open_store(self) -> MailStore:
        client = ComposioClient(self.config)
        try:
            return GmailStore(ComposioGmailOperations(client), Journal(self.index_path))
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
