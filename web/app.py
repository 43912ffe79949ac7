"""The Starlette app behind `http://localhost:5050/pepper/ui.html`: the page, its API, its stream."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import FileResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mcp_servers.common.host_guard import HostAllowlist
from orchestrator.app import Pepper
from web.api import Api
from web.security import UIGuard, login
from web.stream import stream

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"


def create_app(pepper: Pepper, token: str | None = None, hosts: HostAllowlist | None = None) -> Starlette:
    """The UI for `pepper`; with a `token`, every request must prove it; only the `hosts` (loopback
    names by default) are answered (see web.security)."""
    api = Api(pepper)

    async def page(request):
        return FileResponse(STATIC / "ui.html", headers={"Cache-Control": "no-cache"})

    async def home(request):
        return RedirectResponse("/pepper/ui.html")

    routes = [
        Route("/", home),
        Route("/pepper/", home),
        Route("/pepper/ui.html", page),
        Route("/pepper/login", login(token)),
        Route("/pepper/api/state", api.state),
        Route("/pepper/api/status", api.live_status),
        Route("/pepper/api/events", stream(api)),
        Route("/pepper/api/chat", api.chat, methods=["POST"]),
        Route("/pepper/api/ask", api.ask, methods=["POST"]),
        Route("/pepper/api/now", api.now_cards, methods=["POST"]),
        Route("/pepper/api/approvals/{action_id}", api.decide, methods=["POST"]),
        Route("/pepper/api/notifications/{notification_id}/{verb}", api.notification, methods=["POST"]),
        Route("/pepper/api/corrections", api.correct, methods=["POST"]),
        Route("/pepper/api/mail/{message_id}/read", api.mark_mail_read, methods=["POST"]),
        Route("/pepper/api/search", api.search),
        Route("/pepper/api/profile", api.profile, methods=["GET", "POST"]),
        Route("/pepper/api/source", api.source),
        Mount("/pepper/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(UIGuard, token=token, hosts=hosts or HostAllowlist("127.0.0.1"))],
    )
