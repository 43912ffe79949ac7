"""A local Gmail API emulator for tests, speaking the shapes of the shipped discovery document.

It serves, on a loopback port, the endpoints the Gmail API provider calls (paths as in
`googleapiclient/discovery_cache/documents/gmail.v1.json`): profile, messages list/get/modify/
batchModify/send/trash, drafts list/create/delete, labels list/create/patch/delete (a deleted label is taken off
its messages, as Gmail does), history list, watch and stop (push; it records the calls, Pub/Sub itself is
not emulated), the batch endpoint (`batch/gmail/v1`, multipart/mixed, up to 100 calls; `requests` counts
HTTP requests, a batch once; `hold` keeps back the batches that read given messages, to catch a
first sync midway), plus an OAuth token endpoint for refreshes (`revoke()` makes it refuse them,
as Google does for a revoked or expired refresh token; `watch_error` makes `users.watch` fail). History
ids grow with every change; `expire_history()` forgets the history so that
the next `history.list` answers 404 as Gmail does for an expired startHistoryId. Requests must
carry the bearer token the emulator last issued.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from mcp_servers.gmail.settings import GmailSettings

BATCH_LIMIT = 100  # calls per batch request, as Gmail documents
LIST_DEFAULT, LIST_MAX = 100, 500  # messages.list page sizes, as Gmail documents
BOUNDARY = "batch_emulated"
SYSTEM = ["INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "UNREAD", "STARRED", "IMPORTANT"]


@dataclass
class Mailbox:
    """The emulated account's state."""

    messages: dict[str, dict] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: {name: name for name in SYSTEM})
    history: list[dict] = field(default_factory=list)
    history_id: int = 1000
    oldest_history: int = 1000
    token: str = "initial-token"
    ids: count = field(default_factory=lambda: count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    watches: list[dict] = field(default_factory=list)  # the body of every users.watch call
    stops: int = 0  # users.stop calls
    calls: list[str] = field(default_factory=list)  # "GET history", ... in order (inside batches too)
    requests: int = 0  # HTTP requests served, a batch counting once (token refreshes apart)
    batches: list[int] = field(default_factory=list)  # calls per batch request, in order
    busy_once: set[str] = field(default_factory=set)  # message ids whose next get answers 429
    page_tokens: int = 0  # the generation of messages.list page tokens Gmail still takes
    held_ids: set[str] = field(default_factory=set)  # a batch reading one of these waits (`hold`)
    batches_held: int = 0  # batch requests waiting now
    watch_seconds: float = 7 * 24 * 3600  # Gmail's watches last 7 days
    watch_error: tuple[int, str] | None = None  # what users.watch answers instead, when set
    refresh_refused: bool = False  # the token endpoint answers invalid_grant (revoked or expired)
    served: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.served = threading.Condition(self.lock)  # notified after every request

    def record(self, kind: str, message: dict) -> None:
        self.history_id += 1
        entry = {
            "message": {
                "id": message["id"],
                "threadId": message["threadId"],
                "labelIds": list(message["labelIds"]),
            }
        }
        if kind in ("labelsAdded", "labelsRemoved"):
            entry["labelIds"] = []
        self.history.append({"id": str(self.history_id), kind: [entry]})

    def add(self, raw: bytes, label_ids: list[str], thread_id: str | None = None) -> dict:
        number = next(self.ids)
        message = {"id": f"m{number:05d}", "threadId": thread_id or f"t{number:05d}", "labelIds": label_ids,
                   "raw": base64.urlsafe_b64encode(raw).decode(), "internalDate": str(1_700_000_000_000 + number)}  # fmt: skip
        self.messages[message["id"]] = message
        self.record("messagesAdded", message)
        return message


class GmailEmulator:
    """Runs the emulator in a thread; `url` is what the client's api_endpoint should be."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        handler = type("Handler", (_Handler,), {"mailbox": self.mailbox})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> GmailEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def deliver(self, raw: bytes, label_ids: tuple[str, ...] = ("INBOX", "UNREAD")) -> str:
        with self.mailbox.lock:
            return self.mailbox.add(raw, list(label_ids))["id"]

    def wait_until(self, predicate: Callable[[Mailbox], bool], timeout: float = 10) -> bool:
        """Block until `predicate(mailbox)` holds after some request (False on timeout)."""
        with self.mailbox.served:
            return self.mailbox.served.wait_for(lambda: predicate(self.mailbox), timeout)

    def expire_page_tokens(self) -> None:
        """Refuse the page tokens given so far (400 Invalid pageToken)."""
        with self.mailbox.lock:
            self.mailbox.page_tokens += 1

    def hold(self, ids: list[str]) -> None:
        """Keep every batch request that reads one of `ids` waiting until `hold([])` (at most 60 s)."""
        with self.mailbox.lock:
            self.mailbox.held_ids = set(ids)
            self.mailbox.served.notify_all()

    def revoke(self) -> None:
        """Revoke the grant: the current access token stops working and refreshes are refused."""
        with self.mailbox.lock:
            self.mailbox.refresh_refused = True
            self.mailbox.token = f"revoked-{next(self.mailbox.ids)}"

    def reauthorize(self) -> None:
        """The user consented again: refreshes work again."""
        with self.mailbox.lock:
            self.mailbox.refresh_refused = False

    def expire_history(self) -> None:
        with self.mailbox.lock:
            self.mailbox.history.clear()
            self.mailbox.oldest_history = self.mailbox.history_id

    def settings(self, state_dir: Path, **fields: Any) -> GmailSettings:
        """The gmail provider's settings for this emulator, its (expired) token written in `state_dir`."""
        token = state_dir / "gmail-token.json"
        token.parent.mkdir(parents=True)
        token.write_text(self.token_file_content())
        return GmailSettings(provider="gmail", state_dir=state_dir, gmail_api_endpoint=self.url,
                             gmail_token_uri=f"{self.url}token", **fields)  # fmt: skip

    def token_file_content(self) -> str:
        """An authorized-user token whose access token has expired, refreshable here."""
        return json.dumps({"token": "expired", "refresh_token": "refresh-me", "client_id": "client",
                           "client_secret": "secret", "token_uri": f"{self.url}token",
                           "expiry": "2020-01-01T00:00:00Z"})  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    mailbox: Mailbox

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body if body is not None else {}).encode() if status != 204 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._reply(status, {"error": {"code": status, "message": message, "errors": [{"message": message}]}})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        if url.path == "/token" and method == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with self.mailbox.lock:
                if self.mailbox.refresh_refused:
                    self.mailbox.calls.append("POST token refused")
                    self.mailbox.served.notify_all()
                    error = {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    }
                    return self._reply(400, error)
                self.mailbox.token = f"token-{next(self.mailbox.ids)}"
                return self._reply(
                    200, {"access_token": self.mailbox.token, "expires_in": 3600, "token_type": "Bearer"}
                )
        with self.mailbox.lock:
            self.mailbox.requests += 1
        if url.path == "/batch/gmail/v1" and method == "POST":
            return self._batch()
        length = int(self.headers.get("Content-Length") or 0)
        status, body = _dispatch(self.mailbox, method, self.path, self.headers.get("Authorization"),
                                 self.rfile.read(length) if length else b"")  # fmt: skip
        if status >= 400:
            return self._error(status, body["message"])
        self._reply(status, body)

    def _batch(self) -> None:
        """Gmail's batch endpoint: a multipart/mixed body of HTTP requests, answered part by part."""
        content_type = self.headers.get("Content-Type", "")
        envelope = f"Content-Type: {content_type}\r\n\r\n".encode()
        parts = BytesParser().parsebytes(envelope + self.rfile.read(int(self.headers["Content-Length"])))
        requests = parts.get_payload() if parts.is_multipart() else []
        if not requests or len(requests) > BATCH_LIMIT:
            return self._error(400, f"a batch holds 1 to {BATCH_LIMIT} requests, got {len(requests)}")
        calls = [_call_of(part) for part in requests]
        reads = {
            match.group(1) for *_, target, _ in calls if (match := re.search(r"/messages/([^/?]+)", target))
        }
        with self.mailbox.lock:
            box = self.mailbox
            if reads & box.held_ids:
                box.batches_held += 1
                box.served.notify_all()
                box.served.wait_for(lambda: not reads & box.held_ids, 60)
                box.batches_held -= 1
            box.batches.append(len(requests))
        answers = []
        for part, (headers, method, target, body) in zip(requests, calls, strict=True):
            status, answer = _dispatch(self.mailbox, method, target, headers.get("authorization")
                                       or headers.get("Authorization"), body.encode())  # fmt: skip
            if status >= 400:
                answer = {"error": {"code": status, "message": answer["message"]}}
            answers.append(_batch_part(part["Content-ID"], status, answer))
        data = ("".join(answers) + f"--{BOUNDARY}--\r\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/mixed; boundary={BOUNDARY}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _call_of(part: Any) -> tuple[dict[str, str], str, str, str]:
    """One part of a batch request: its headers, method, target and body."""
    head, _, body = part.get_payload().replace("\r\n", "\n").partition("\n\n")
    line, *fields = head.split("\n")
    headers = dict(field.split(": ", 1) for field in fields if ": " in field)
    method, target, _ = line.split(" ", 2)
    return headers, method, target, body


def _batch_part(content_id: str, status: int, answer: dict) -> str:
    body = json.dumps(answer)
    return (f"--{BOUNDARY}\r\nContent-Type: application/http\r\n"
            f"Content-ID: <response-{content_id.strip('<>')}>\r\n\r\n"
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}\r\n")  # fmt: skip


def _dispatch(
    box: Mailbox, method: str, target: str, authorization: str | None, raw: bytes
) -> tuple[int, dict]:
    """One Gmail API call (alone or inside a batch): its status and JSON body."""
    url = urlparse(target)
    if authorization != f"Bearer {box.token}":
        return 401, {"message": "Request had invalid authentication credentials."}
    match = re.fullmatch(r"/gmail/v1/users/me/(.+)", url.path)
    if not match:
        return 404, {"message": "Not Found"}
    query = {key: values[-1] for key, values in parse_qs(url.query).items()}
    with box.lock:
        path = match.group(1)
        routed = _ROUTES.get((method, path)) or _ROUTES.get(
            (method, re.sub(r"(messages|drafts|labels)/[^/]+", r"\1/{id}", path))
        )
        if routed is None:
            return 404, {"message": f"no emulated endpoint {method} {path}"}
        item_id = path.split("/")[1] if "/" in path else ""
        box.calls.append(f"{method} {path}")
        answer = routed(box, item_id, query, json.loads(raw or b"{}") if method in ("POST", "PATCH") else {})
        box.served.notify_all()
        return answer


def _profile(box: Mailbox, _id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    return 200, {
        "emailAddress": "me@example.org",
        "messagesTotal": len(box.messages),
        "historyId": str(box.history_id),
    }


def _list(box: Mailbox, _id: str, q: dict, _b: dict) -> tuple[int, dict]:
    """Newest first; `maxResults` 100 by default, at most 500, as Gmail documents. The page token
    names the last id given (opaque to the client), so mail added or deleted between pages neither
    repeats nor hides one; `expire_page_tokens` makes the tokens given so far answer 400."""
    ids = sorted(box.messages, reverse=True)
    size = min(int(q.get("maxResults") or LIST_DEFAULT), LIST_MAX)
    generation, _, after = (q.get("pageToken") or f"{box.page_tokens}-").partition("-")
    if generation != str(box.page_tokens):
        return 400, {"message": "Invalid pageToken"}
    listed = [i for i in ids if not after or i < after]
    page = [{"id": i, "threadId": box.messages[i]["threadId"]} for i in listed[:size]]
    body: dict = {"messages": page, "resultSizeEstimate": len(ids)}
    if len(listed) > size:
        body["nextPageToken"] = f"{box.page_tokens}-{page[-1]['id']}"
    return 200, body


def _get(box: Mailbox, id: str, q: dict, _b: dict) -> tuple[int, dict]:
    if id in box.busy_once:
        box.busy_once.discard(id)
        return 429, {"message": "Too many concurrent requests for user."}
    if id not in box.messages:
        return 404, {"message": "Requested entity was not found."}
    message = dict(box.messages[id], historyId=str(box.history_id))
    if q.get("format") != "raw":
        message.pop("raw")
    return 200, message


def _modify(box: Mailbox, id: str, _q: dict, body: dict) -> tuple[int, dict]:
    if id not in box.messages:
        return 404, {"message": "Requested entity was not found."}
    message = box.messages[id]
    for label in body.get("addLabelIds", []):
        if label not in box.labels:
            return 400, {"message": f"Invalid label: {label}"}
    message["labelIds"] = [x for x in message["labelIds"] if x not in body.get("removeLabelIds", [])]
    message["labelIds"] += [x for x in body.get("addLabelIds", []) if x not in message["labelIds"]]
    box.record("labelsAdded", message)
    return 200, {k: v for k, v in message.items() if k != "raw"}


def _batch_modify(box: Mailbox, _id: str, q: dict, body: dict) -> tuple[int, dict]:
    for id in body.get("ids", []):
        status, answer = _modify(box, id, q, body)
        if status != 200:
            return status, answer
    return 204, {}


def _trash(box: Mailbox, id: str, q: dict, _b: dict) -> tuple[int, dict]:
    return _modify(box, id, q, {"addLabelIds": ["TRASH"], "removeLabelIds": ["INBOX"]})


def _send(box: Mailbox, _id: str, _q: dict, body: dict) -> tuple[int, dict]:
    # Gmail puts a sent message in the thread the request names, and in a new one otherwise
    message = box.add(base64.urlsafe_b64decode(body["raw"]), ["SENT"], body.get("threadId"))
    return 200, {"id": message["id"], "threadId": message["threadId"], "labelIds": ["SENT"]}


def _create_draft(box: Mailbox, _id: str, _q: dict, body: dict) -> tuple[int, dict]:
    message = box.add(
        base64.urlsafe_b64decode(body["message"]["raw"]), ["DRAFT"], body["message"].get("threadId")
    )
    draft_id = f"r{message['id']}"
    box.drafts[draft_id] = message["id"]
    return 200, {
        "id": draft_id,
        "message": {"id": message["id"], "threadId": message["threadId"], "labelIds": ["DRAFT"]},
    }


def _delete_draft(box: Mailbox, id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    message_id = box.drafts.pop(id, None)
    if message_id is None:
        return 404, {"message": "Requested entity was not found."}
    box.record("messagesDeleted", box.messages.pop(message_id))
    return 204, {}


def _labels(box: Mailbox, _id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    return 200, {
        "labels": [
            {"id": i, "name": n, "type": "system" if i in SYSTEM else "user"} for i, n in box.labels.items()
        ]
    }


def _create_label(box: Mailbox, _id: str, _q: dict, body: dict) -> tuple[int, dict]:
    label_id = f"Label_{len(box.labels)}"
    box.labels[label_id] = body["name"]
    return 200, {"id": label_id, "name": body["name"], "type": "user"}


def _patch_label(box: Mailbox, id: str, _q: dict, body: dict) -> tuple[int, dict]:
    if id not in box.labels or id in SYSTEM:
        return 404, {"message": "Requested entity was not found."}
    box.labels[id] = body.get("name", box.labels[id])
    return 200, {"id": id, "name": box.labels[id], "type": "user"}


def _delete_label(box: Mailbox, id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    if id not in box.labels or id in SYSTEM:
        return 404, {"message": "Requested entity was not found."}
    del box.labels[id]
    for message in box.messages.values():
        if id in message["labelIds"]:
            message["labelIds"].remove(id)
            box.record("labelsRemoved", message)
    return 204, {}


def _list_drafts(box: Mailbox, _id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    drafts = [
        {"id": d, "message": {"id": m, "threadId": box.messages[m]["threadId"]}}
        for d, m in box.drafts.items()
    ]
    return 200, {"drafts": drafts, "resultSizeEstimate": len(drafts)}


def _history(box: Mailbox, _id: str, q: dict, _b: dict) -> tuple[int, dict]:
    start = int(q["startHistoryId"])
    if start < box.oldest_history:
        return 404, {"message": "Requested entity was not found."}
    return 200, {
        "history": [h for h in box.history if int(h["id"]) > start],
        "historyId": str(box.history_id),
    }


def _watch(box: Mailbox, _id: str, _q: dict, body: dict) -> tuple[int, dict]:
    if not re.fullmatch(r"projects/[^/]+/topics/[^/]+", body.get("topicName", "")):
        return 400, {"message": "Invalid topicName: expected projects/PROJECT/topics/TOPIC"}
    if box.watch_error is not None:
        return box.watch_error[0], {"message": box.watch_error[1]}
    box.watches.append(body)
    expiration = int((time.time() + box.watch_seconds) * 1000)
    return 200, {"historyId": str(box.history_id), "expiration": str(expiration)}


def _stop(box: Mailbox, _id: str, _q: dict, _b: dict) -> tuple[int, dict]:
    box.stops += 1
    return 204, {}


_ROUTES = {
    ("POST", "watch"): _watch,
    ("POST", "stop"): _stop,
    ("GET", "profile"): _profile,
    ("GET", "messages"): _list,
    ("GET", "messages/{id}"): _get,
    ("POST", "messages/{id}/modify"): _modify,
    ("POST", "messages/{id}/trash"): _trash,
    ("POST", "messages/batchModify"): _batch_modify,
    ("POST", "messages/send"): _send,
    ("POST", "drafts"): _create_draft,
    ("DELETE", "drafts/{id}"): _delete_draft,
    ("GET", "drafts"): _list_drafts,
    ("PATCH", "labels/{id}"): _patch_label,
    ("DELETE", "labels/{id}"): _delete_label,
    ("GET", "labels"): _labels,
    ("POST", "labels"): _create_label,
    ("GET", "history"): _history,
}
