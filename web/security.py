"""Who may use the UI: anyone on this machine when it listens on loopback; elsewhere only holders of
the token (an `Authorization: Bearer` header, or the cookie that `/pepper/login?token=…` sets once).
Every request must name an allowed host (127.0.0.1, localhost, [::1], `PEPPER_UI_ALLOWED_HOSTS`) and
the UI's own port, else 421: a DNS-rebinding page names its own host; a request whose Origin is not
exactly this UI's (an allowed host, this scheme and port) is refused with 403, streams included
(mcp_servers/common/host_guard.py). State-changing requests must carry `X-Pepper-CSRF: 1`, a header a
cross-site form cannot send and a cross-site script cannot add without a CORS preflight this app
never grants."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_servers.common.host_guard import HostAllowlist

__all__ = ["COOKIE", "UIGuard", "login"]

COOKIE = "pepper_token"
CSRF_HEADER = "x-pepper-csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class UIGuard:
    """ASGI middleware enforcing the rules above."""

    def __init__(self, app: ASGIApp, token: str | None, hosts: HostAllowlist) -> None:
        self._app = app
        self._token = token
        self._hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self.refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        # Host and Origin first: a rebinding page must not even learn whether a token is needed.
        if (wrong_host := self._hosts.refusal(request.scope)) is not None:
            status, reason = wrong_host
            return JSONResponse({"error": reason}, status)
        if request.url.path == "/pepper/login":
            return None
        if self._token and not self._authorized(request):
            return JSONResponse({"error": "this Pepper needs its token: open the login link it printed"}, 401)
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != "1":
            return JSONResponse({"error": "missing X-Pepper-CSRF header"}, 403)
        return None

    def _authorized(self, request: Request) -> bool:
        assert self._token is not None
        offered = request.cookies.get(COOKIE) or request.headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        return hmac.compare_digest(offered.encode(), self._token.encode())


def login(token: str | None):
    """`GET /pepper/login?token=…`: trade the token for an HttpOnly, same-site cookie."""

    async def endpoint(request: Request) -> Response:
        offered = request.query_params.get("token", "")
        if not token or not hmac.compare_digest(offered.encode(), token.encode()):
            return JSONResponse({"error": "wrong or missing token"}, 401)
        response = RedirectResponse("/pepper/ui.html", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/pepper")
        return response

    return endpoint
