"""One HTTP endpoint, many tenants: each request's bearer token picks the tenant whose MCP server
answers it.

Every tenant gets the context store's own server (`build_server`) over a `PostgresStorage` of its
own schema, opened on its first request and kept open until shutdown, so a tenant's sessions,
subscriptions and wake-ups are its own exactly as with a process per tenant; only the embedder is
shared (it is loaded once). A request without a known token gets 401 before any tenant is touched;
a session id of another tenant's is unknown to this tenant's server (404). At most
`max_open_tenants` tenants are served at once (each holds a connection pool and a `LISTEN`
connection); beyond that, and while a tenant's database cannot be reached, requests get 503 with
the reason.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import anyio
import psycopg
from anyio.abc import TaskGroup, TaskStatus
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_servers.common.frames import FrameGuard
from mcp_servers.common.host_guard import send_json
from mcp_servers.common.surface import http_app
from mcp_servers.common.transport import send_unauthorized

from ..errors import StorageError
from ..settings import ContextStoreSettings
from .registry import Tenant, TenantRegistry, TenantsFileError

__all__ = ["TenantRouter"]

logger = logging.getLogger(__name__)


def bearer(scope: Scope) -> str | None:
    value = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class TenantRouter:
    """The ASGI app of a multi-tenant context store; see the module docstring."""

    def __init__(self, settings: ContextStoreSettings, registry: TenantRegistry, path: str = "/mcp") -> None:
        self._settings = settings
        self._registry = registry
        self._path = path
        self._apps: dict[str, ASGIApp] = {}
        self._locks: defaultdict[str, anyio.Lock] = defaultdict(anyio.Lock)
        self._tasks: TaskGroup | None = None
        self._stopping = anyio.Event()
        self._embedder: Any = None
        self._semantic_off_reason = ""

    @property
    def open_tenants(self) -> list[str]:
        return sorted(self._apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        tenant = self._tenant(bearer(scope))
        if tenant is None:
            await send_unauthorized(send)
            return
        try:
            app = await self._app(tenant)
        except (StorageError, TenantsFileError) as exc:
            await send_json(send, 503, {"error": str(exc)})
            return
        except psycopg.Error as exc:  # e.g. a role without the rights the store needs in its schema
            logger.error("cannot open tenant %s: %s", tenant.name, exc)
            await send_json(send, 503, {"error": f"the store of this tenant cannot be opened: {exc}"})
            return
        await app(scope, receive, send)

    def _tenant(self, token: str | None) -> Tenant | None:
        if token is None:
            return None
        tenant = self._registry.tenant_for(token)
        if tenant is None:  # a tenant added while the server runs is served at once
            try:
                if self._registry.reload():
                    logger.info("tenants file re-read: %d tenants", len(self._registry.tenants))
            except TenantsFileError as exc:
                logger.error("%s (the tenants read before stay in force)", exc)
            tenant = self._registry.tenant_for(token)
        return tenant

    async def _app(self, tenant: Tenant) -> ASGIApp:
        async with self._locks[tenant.name]:
            if (app := self._apps.get(tenant.name)) is not None:
                return app
            if len(self._apps) >= self._settings.max_open_tenants:
                raise StorageError(
                    f"this server already serves {len(self._apps)} tenants, its limit "
                    "(PEPPER_CONTEXT_MAX_OPEN_TENANTS): run another server process for more"
                )
            if self._tasks is None:
                raise StorageError("the server is not running (its lifespan has not started)")
            app = await self._tasks.start(self._serve, tenant)
            self._apps[tenant.name] = app
            return app

    async def _serve(self, tenant: Tenant, *, task_status: TaskStatus[ASGIApp]) -> None:
        """Open the tenant's storage and server, hand its app over, and hold both open until shutdown."""
        from ..postgres import PostgresStorage
        from ..server import build_server
        from ..services import store_options

        default = self._settings.database_url
        url = tenant.database_url or (default.get_secret_value() if default is not None else "")
        storage = await PostgresStorage.open(
            url,
            tenant.name,
            self._embedder,
            semantic_off_reason=self._semantic_off_reason,
            pool_size=self._settings.tenant_pool_size,
            **store_options(self._settings),
        )
        started = False
        try:
            server = build_server(self._settings.model_copy(update={"tenant": tenant.name}), storage)
            app = http_app(server, self._path)
            async with app.router.lifespan_context(app):
                logger.info("serving tenant %s", tenant.name)
                task_status.started(FrameGuard(app, path=self._path))
                started = True
                await self._stopping.wait()
        except Exception:
            if not started:
                raise
            logger.exception(
                "tenant %s stopped by an error; it is opened again on its next request", tenant.name
            )
        finally:
            self._apps.pop(tenant.name, None)
            with anyio.CancelScope(shield=True):
                await storage.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        from ..services import load_embedder

        await receive()  # lifespan.startup
        async with anyio.create_task_group() as tasks:
            self._embedder, self._semantic_off_reason = await anyio.to_thread.run_sync(
                load_embedder, self._settings
            )
            self._tasks = tasks
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            self._tasks = None
            self._stopping.set()
        await send({"type": "lifespan.shutdown.complete"})


def check_tenant_options(settings: ContextStoreSettings, transport: str) -> TenantRegistry:
    """The registry of `settings.tenants_file`, or a `StartupError` naming the setting to change."""
    from mcp_servers.common.startup import StartupError

    assert settings.tenants_file is not None
    clashes = {
        "a tenants file is served over HTTP only: add --transport http": transport != "http",
        "PEPPER_CONTEXT_TENANTS_FILE needs PEPPER_CONTEXT_DATABASE_URL=postgresql://... (tenants live in "
        "PostgreSQL)": settings.database_url is None,
        "PEPPER_CONTEXT_TOKEN and PEPPER_CONTEXT_TENANTS_FILE are both set: with a tenants file each "
        "tenant's token is in the file; unset PEPPER_CONTEXT_TOKEN": settings.token is not None,
        "PEPPER_CONTEXT_TENANT and PEPPER_CONTEXT_TENANTS_FILE are both set: the token picks the tenant; "
        "unset PEPPER_CONTEXT_TENANT": settings.tenant is not None,
    }
    for message, clash in clashes.items():
        if clash:
            raise StartupError(f"cannot start: {message}")
    try:
        return TenantRegistry(settings.tenants_file)
    except TenantsFileError as exc:
        raise StartupError(f"cannot start: {exc}") from exc


async def serve_tenants(settings: ContextStoreSettings, registry: TenantRegistry, options: Any) -> None:
    """Serve every tenant of `registry` on one HTTP port until cancelled (Host and Origin checked
    first, then the token; see `mcp_servers.common.transport` for the single-tenant server)."""
    import uvicorn

    from mcp_servers.common.host_guard import HostAllowlist, HostOriginGuard
    from mcp_servers.common.startup import bind_listener

    router = TenantRouter(settings, registry, options.path)
    app = HostOriginGuard(router, HostAllowlist(options.host, options.allowed_hosts))
    listener = bind_listener(options.host, options.port)
    with listener:
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        logger.info(
            "serving %d tenants on http://%s:%d%s",
            len(registry.tenants),
            options.host,
            listener.getsockname()[1],
            options.path,
        )
        await uvicorn.Server(config).serve(sockets=[listener])
