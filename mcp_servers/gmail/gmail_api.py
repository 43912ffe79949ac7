"""The Gmail API provider: OAuth, incremental sync with `users.history.list`, and Gmail's own labels.

`GmailApiOperations` runs the Gmail operations of the shared `GmailStore` (`gmail_store`: a first
index stepped newest first (`gmail_backlog`), `users.history.list` from the stored historyId, a full
resync when Gmail says it expired)
through the blocking google-api-python-client, in a worker thread, translating its HTTP errors (404
is `NotFoundError`; 401 is `CredentialsRefused`; 403 names the missing scope). Many messages are
read through Gmail's batch endpoint (`batch/gmail/v1`), `BATCH` per HTTP request, not one request
each; the first index reads through a second service object (httplib2 is not thread-safe), outside
the index lock. Changes are noticed by polling history every `poll_seconds`, and with a Pub/Sub topic
configured also at once: `users.watch` is registered and renewed before it expires (daily; Gmail's
last 7 days), and a push to
`/gmail/push` (`gmail_push`) wakes the watcher. Sending goes through `users.messages.send`;
Gmail files the copy under SENT itself. A refresh Google refuses (a revoked or expired grant) is
`CredentialsRefused`; the OAuth tokens and the watch's expiry and renewals are recorded in the
provider's `account_health` (`account_status`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urljoin

import anyio
from anyio.abc import TaskStatus
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from .account_status import AccountHealth
from .gmail_auth import MODIFY_SCOPES, READ_SCOPES, SEND_SCOPES, OAuthTracker, load_credentials
from .gmail_push import PushNotice
from .gmail_store import Fetched, GmailStore
from .indexed import IndexedProvider, MailStore
from .journal import Journal
from .provider import Changed, CredentialsRefused, MailProviderError, NotFoundError, ProviderUnavailableError
from .settings import GmailSettings

__all__ = ["GmailApiOperations", "GmailApiProvider"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
RENEW_SECONDS = 24 * 3600
API_ROOT = "https://gmail.googleapis.com/"
LIST_PAGE = 500  # ids per users.messages.list page: Gmail's maximum (its default is 100)
BATCH = 50  # Gmail takes 100 calls per batch request and advises at most 50: more trip its rate limits
_PASSING = {429, 500, 502, 503, 504}


def _error_of(exc: HttpError | RefreshError) -> MailProviderError:
    """The provider error for a refused refresh or an HTTP error of the Gmail API (one call's or a batch part's)."""
    if isinstance(exc, RefreshError):  # the token endpoint answered, and said no
        return CredentialsRefused(
            f"Google refused to refresh the Gmail token ({exc}): it expired or was revoked; "
            "run `pepper-orchestrator setup gmail` again to consent"
        )
    status = exc.resp.status
    if status == 404:
        return NotFoundError(f"Gmail has no such item: {exc.reason}")
    if status == 401:
        return CredentialsRefused(
            f"Gmail refused the token ({status} {exc.reason}): it expired or was revoked; "
            "run `pepper-orchestrator setup gmail` again to consent"
        )
    if status == 403:
        return ProviderUnavailableError(
            f"Gmail refused the request ({status} {exc.reason}): the token lacks a scope or was revoked; "
            "start with --allow-write (modify) or --allow-send (modify + send), or delete the token and consent again"
        )
    return MailProviderError(f"Gmail API error {status}: {exc.reason}")


def _translated(call: Callable[[], T]) -> T:
    try:
        return call()
    except (HttpError, RefreshError) as exc:
        raise _error_of(exc) from exc
    except (OSError, TransportError) as exc:
        raise ProviderUnavailableError(f"cannot reach the Gmail API: {exc}") from exc


def _labels_of(found: dict[str, Any]) -> list[str]:
    return found.get("labelIds", [])


def _fetched(found: dict[str, Any]) -> Fetched:
    return Fetched.decoding(
        found.get("labelIds", []), found.get("threadId"), int(found.get("internalDate", 0)) / 1000,
        lambda: base64.urlsafe_b64decode(found.get("raw", "") + "=="),
    )  # fmt: skip


class GmailApiOperations:
    """`GmailOperations` over google-api-python-client's `users()` resource, plus push watches."""

    def __init__(self, service: Any, endpoint: str | None = None) -> None:
        self.users = service.users()
        self.batch_uri = urljoin(endpoint or API_ROOT, "batch/gmail/v1")

    def close(self) -> None:
        pass

    def list_labels(self) -> list[dict[str, Any]]:
        return _translated(self.users.labels().list(userId="me").execute).get("labels", [])

    def create_label(self, name: str) -> dict[str, Any]:
        return _translated(self.users.labels().create(userId="me", body={"name": name}).execute)

    def profile(self) -> dict[str, Any]:
        return _translated(self.users.getProfile(userId="me").execute)

    def list_messages(self, page_token: str | None) -> dict[str, Any]:
        request = self.users.messages().list(
            userId="me", includeSpamTrash=True, maxResults=LIST_PAGE, pageToken=page_token
        )
        return _translated(request.execute)  # ids only: `label_ids` reads the labels of known ones

    def list_history(self, start: str, page_token: str | None) -> dict[str, Any]:
        request = self.users.history().list(userId="me", startHistoryId=start, pageToken=page_token)
        return _translated(request.execute)

    def _get(self, id: str, format: str) -> dict[str, Any]:
        return _translated(self.users.messages().get(userId="me", id=id, format=format).execute)

    def label_ids(self, ids: list[str]) -> dict[str, list[str] | MailProviderError]:
        """The labels of many messages (`format=minimal`), `BATCH` per HTTP request."""
        found: dict[str, list[str] | MailProviderError] = {}
        for start in range(0, len(ids), BATCH):
            found |= self._batch(ids[start : start + BATCH], "minimal", _labels_of)
        return found

    def get_message(self, id: str) -> Fetched:
        return _fetched(self._get(id, "raw"))

    def get_messages(self, ids: list[str]) -> dict[str, Fetched | MailProviderError]:
        """Messages in raw form by id, `BATCH` per HTTP request through Gmail's batch endpoint
        (multipart/mixed); one the batch could not give for a passing reason (a rate limit, a
        server error) is asked for alone, once."""
        found: dict[str, Fetched | MailProviderError] = {}
        for start in range(0, len(ids), BATCH):
            found |= self._batch(ids[start : start + BATCH], "raw", _fetched)
        return found

    def _batch(
        self, ids: list[str], format: str, convert: Callable[[dict[str, Any]], R]
    ) -> dict[str, R | MailProviderError]:
        """`messages.get` of each id in one batch request, each answer `convert`ed."""
        found: dict[str, R | MailProviderError] = {}
        again: list[str] = []

        def collect(id: str, response: dict[str, Any] | None, exc: Exception | None) -> None:
            if isinstance(exc, HttpError) and exc.resp.status in _PASSING:
                again.append(id)
            elif isinstance(exc, HttpError):
                found[id] = _error_of(exc)
            elif exc is not None or response is None:
                found[id] = MailProviderError(f"Gmail batch answer for {id} was unreadable: {exc}")
            else:
                found[id] = convert(response)

        batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
        for id in dict.fromkeys(ids):
            batch.add(self.users.messages().get(userId="me", id=id, format=format), request_id=id)
        _translated(batch.execute)
        for id in again:
            try:
                found[id] = convert(self._get(id, format))
            except MailProviderError as exc:
                found[id] = exc
        return found

    def modify(self, id: str, add: list[str], remove: list[str]) -> list[str]:
        body = {"addLabelIds": add, "removeLabelIds": remove}
        request = self.users.messages().modify(userId="me", id=id, body=body)
        return _translated(request.execute).get("labelIds", [])

    def batch_modify(self, ids: list[str], add: list[str], remove: list[str]) -> None:
        body = {"ids": ids, "addLabelIds": add, "removeLabelIds": remove}
        _translated(self.users.messages().batchModify(userId="me", body=body).execute)

    def trash(self, id: str) -> None:
        _translated(self.users.messages().trash(userId="me", id=id).execute)

    def send(self, raw: bytes, thread_id: str | None = None) -> str:
        body = {
            "raw": base64.urlsafe_b64encode(raw).decode(),
            **({"threadId": thread_id} if thread_id else {}),
        }
        return _translated(self.users.messages().send(userId="me", body=body).execute)["id"]

    def create_draft(self, raw: bytes, thread_id: str | None = None) -> tuple[str, str]:
        message = {
            "raw": base64.urlsafe_b64encode(raw).decode(),
            **({"threadId": thread_id} if thread_id else {}),
        }
        body = {"message": message}
        draft = _translated(self.users.drafts().create(userId="me", body=body).execute)
        return draft["id"], draft["message"]["id"]

    def delete_draft(self, draft_id: str) -> None:
        _translated(self.users.drafts().delete(userId="me", id=draft_id).execute)

    def draft_ids(self) -> dict[str, str]:
        found: dict[str, str] = {}
        token: str | None = None
        while True:
            page = _translated(self.users.drafts().list(userId="me", pageToken=token).execute)
            found.update((d["message"]["id"], d["id"]) for d in page.get("drafts", []))
            if not (token := page.get("nextPageToken")):
                return found

    def rename_label(self, label_id: str, name: str) -> None:
        _translated(self.users.labels().patch(userId="me", id=label_id, body={"name": name}).execute)

    def delete_label(self, label_id: str) -> None:
        _translated(self.users.labels().delete(userId="me", id=label_id).execute)

    def start_watch(self, topic: str) -> float:
        """Ask Gmail to publish mailbox changes to `topic` (users.watch); returns the expiry (epoch s)."""
        found = _translated(self.users.watch(userId="me", body={"topicName": topic}).execute)
        return int(found["expiration"]) / 1000

    def stop_watch(self) -> None:
        _translated(self.users.stop(userId="me").execute)


class GmailApiProvider(IndexedProvider):
    """A Gmail account through the Gmail API."""

    def __init__(self, settings: GmailSettings) -> None:
        super().__init__(None)
        self.settings = settings
        self.token_file = settings.gmail_token_file or settings.state_dir / "gmail-token.json"
        account = hashlib.sha256(str(self.token_file.resolve()).encode()).hexdigest()[:12]
        self.index_path = settings.state_dir / f"gmail-{account}.sqlite3"
        self._pushed: anyio.Event | None = None  # made by `watch`: an Event needs the event loop
        self._account_health = AccountHealth("gmail", str(self.token_file))
        self._oauth: OAuthTracker | None = None

    def _open_store(self) -> MailStore:
        writes = MODIFY_SCOPES if self.settings.allow_write else READ_SCOPES
        scopes = SEND_SCOPES if self.settings.allow_send else writes
        journal = Journal(self.index_path)
        tracker = OAuthTracker(
            self.token_file, journal, self.account_health, self.settings.gmail_refresh_token_days
        )
        try:
            credentials = tracker.track(
                load_credentials(
                    self.token_file, scopes, self.settings.gmail_client_secrets, self.settings.gmail_token_uri
                )
            )
            self._oauth = tracker
            options = (
                {"api_endpoint": self.settings.gmail_api_endpoint}
                if self.settings.gmail_api_endpoint
                else None
            )
            endpoint = self.settings.gmail_api_endpoint
            services = [  # two: the first indexing reads beside the tools, and httplib2 is not thread-safe
                build("gmail", "v1", credentials=credentials, static_discovery=True, client_options=options)
                for _ in range(2)
            ]
            ops, backlog = (GmailApiOperations(service, endpoint) for service in services)
            return GmailStore(ops, journal, backlog)
        except BaseException:
            journal.close()
            raise

    async def _reaching(self, call: Callable[[], T]) -> T:
        """As `IndexedProvider._reaching`, noting (and saving) an access token refreshed meanwhile."""
        try:
            return await super()._reaching(call)
        finally:
            if self._oauth is not None:
                await anyio.to_thread.run_sync(self._oauth.note_refresh)

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
            expires = await self._run(lambda store: store.ops.start_watch(topic))  # type: ignore[attr-defined]
        except MailProviderError as exc:
            logger.warning("Gmail users.watch on %s failed (%s); polling, retrying later", topic, exc)
            self.account_health.watch_failed(topic, str(exc))
            return time.time() + self.settings.poll_seconds
        self.account_health.watch_renewed(topic, expires)
        remaining = expires - time.time()
        logger.info("Gmail pushes changes to %s for %.1f h", topic, remaining / 3600)
        return time.time() + min(remaining / 2, RENEW_SECONDS)

    async def _stop_watch(self) -> None:
        try:
            await self._run(lambda store: store.ops.stop_watch())  # type: ignore[attr-defined]
        except MailProviderError as exc:
            logger.warning("Gmail users.stop failed (%s); the watch expires by itself", exc)
