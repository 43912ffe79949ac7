"""Gmail push over Cloud Pub/Sub: the `/gmail/push` endpoint on the server's HTTP transport.

After `users.watch`, Gmail publishes `{emailAddress, historyId}` to a Pub/Sub topic, and a push
subscription POSTs it here as `{"message": {"data": <base64 JSON>, ...}, "subscription": ...}`.
Pub/Sub cannot send custom headers, so the endpoint is authenticated by a shared token in the
push URL (`/gmail/push?token=...`, or an `X-Pepper-Push-Token` header), compared in constant time.
A valid push only wakes the provider's watcher, which syncs history at once; the answer is 204 so
Pub/Sub does not redeliver. A wrong token gets 401, a malformed body 400 (Pub/Sub then retries,
and the poll catches up either way).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from fastmcp import FastMCP
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["PUSH_PATH", "PushError", "PushNotice", "PushReceiver", "add_push_route", "parse_push"]

logger = logging.getLogger(__name__)
PUSH_PATH = "/gmail/push"
TOKEN_HEADER = "x-pepper-push-token"


class PushError(ValueError):
    """The push body is not a Gmail Pub/Sub notification."""


@dataclass(frozen=True)
class PushNotice:
    """What Gmail says in a push: whose mailbox changed, and up to which history id."""

    email_address: str
    history_id: int


@runtime_checkable
class PushReceiver(Protocol):
    """A provider that syncs when told that the mailbox changed."""

    def pushed(self, notice: PushNotice) -> None: ...


def parse_push(body: bytes) -> PushNotice:
    """The notice inside a Pub/Sub push body; `PushError` saying what is wrong otherwise."""
    try:
        envelope = json.loads(body)
        data = envelope["message"]["data"]
        payload = json.loads(base64.b64decode(data, validate=False) or b"null")
        return PushNotice(str(payload["emailAddress"]), int(payload["historyId"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise PushError(
            "expected a Pub/Sub push: {message: {data: base64 of {emailAddress, historyId}}}"
            f" ({type(exc).__name__}: {exc})"
        ) from exc


def _authorized(request: Request, token: str) -> bool:
    supplied = request.query_params.get("token") or request.headers.get(TOKEN_HEADER) or ""
    return hmac.compare_digest(supplied.encode(), token.encode())


def add_push_route(server: FastMCP, token: SecretStr, receiver: PushReceiver) -> None:
    """Serve `POST /gmail/push` on `server`'s HTTP transport, waking `receiver` on each push."""

    @server.custom_route(PUSH_PATH, methods=["POST"], include_in_schema=False)
    async def gmail_push(request: Request) -> Response:
        if not _authorized(request, token.get_secret_value()):
            return JSONResponse({"error": "missing or wrong push token"}, status_code=401)
        try:
            notice = parse_push(await request.body())
        except PushError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        logger.info("Gmail push for %s up to history %d", notice.email_address, notice.history_id)
        receiver.pushed(notice)
        return Response(status_code=204)
