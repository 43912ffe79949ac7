"""A small typed client for executing Composio tools by slug, shared by the gmail and calendar adapters.

It stands on `composio_client`, the HTTP client the `composio` 0.30 SDK installs and uses itself:
`POST {base_url}/api/v3.1/tools/execute/{slug}` with the project key in `x-api-key` and a JSON body
`{"arguments": ..., "user_id": ..., "connected_account_id": ..., "version": ...}`, answered with
`{"data": ..., "successful": bool, "error": str | null}`. The SDK's high-level `Composio.tools.execute`
is not used: it first downloads the tool's schema (one more round trip per slug), refuses the
"latest" toolkit version without a flag, and reports every call to telemetry.composio.dev through a
context variable that worker threads do not inherit. Calls are blocking (run them in a worker
thread); failures are translated once, here, into the `ComposioError` tree below.
"""

from __future__ import annotations

import logging
from typing import Any

import composio_client
import httpx
from pydantic import BaseModel, Field, SecretStr

__all__ = [
    "ComposioAuthError",
    "ComposioClient",
    "ComposioConfig",
    "ComposioError",
    "ComposioToolFailedError",
    "ComposioUnavailableError",
]

logger = logging.getLogger(__name__)


class ComposioError(Exception):
    """A Composio tool could not be executed; the message says why and what to do."""


class ComposioAuthError(ComposioError):
    """Composio refused the API key, or the connected account is not allowed to do this."""


class ComposioUnavailableError(ComposioError):
    """Composio could not be reached, timed out or failed on its side (5xx); retrying may help."""


class ComposioToolFailedError(ComposioError):
    """Composio ran the tool and the tool failed (`successful: false`, `status` None), or refused the
    request with a 4xx (`status` set)."""

    def __init__(self, slug: str, message: str, status: int | None = None) -> None:
        super().__init__(f"Composio tool {slug} failed: {message}")
        self.slug, self.reason, self.status = slug, message, status


class ComposioConfig(BaseModel):
    """Where Composio is and whose account the tools act for."""

    api_key: SecretStr = Field(description="Composio project API key (x-api-key)")
    base_url: str | None = Field(None, description="Composio API base URL; Composio's cloud when None")
    user_id: str | None = Field(None, description="Composio user (entity) id the connection belongs to")
    connected_account_id: str | None = Field(None, description="Connected account id (ca_...), if pinned")
    toolkit_version: str | None = Field(None, description="Toolkit version to execute, e.g. 20250906_01")
    timeout_seconds: float = Field(30.0, gt=0, description="Timeout of every Composio request")

    @classmethod
    def of(cls, settings: Any, **overrides: Any) -> ComposioConfig:
        """The config a server's settings hold in their `composio_*` fields (the key must be set)."""
        return cls(
            api_key=settings.composio_api_key,
            base_url=settings.composio_base_url,
            user_id=settings.composio_user_id,
            connected_account_id=settings.composio_connected_account_id,
            toolkit_version=settings.composio_toolkit_version,
            **overrides,
        )


class ComposioClient:
    """Executes Composio tools by slug; blocking, safe to share between worker threads."""

    def __init__(self, config: ComposioConfig, *, keep_alive: bool = True) -> None:
        """`keep_alive=False` closes each connection after its response, for owners with no `close()`."""
        self.config = config
        limits = httpx.Limits(max_keepalive_connections=None if keep_alive else 0)
        self._http = composio_client.Composio(
            auth=composio_client.ProjectAuth(config.api_key.get_secret_value()),
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            max_retries=0,  # tool executions are not idempotent; callers poll again instead
            http_client=httpx.Client(limits=limits, timeout=config.timeout_seconds),
        )

    def close(self) -> None:
        self._http.close()

    def execute(self, slug: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run tool `slug` with `arguments`; its `data`, unwrapped from `response_data` if nested."""
        extra = {
            "user_id": self.config.user_id,
            "connected_account_id": self.config.connected_account_id,
            "version": self.config.toolkit_version,
        }
        sent = {key: value for key, value in extra.items() if value is not None}
        try:
            response = self._http.tools.execute(slug, arguments=arguments, **sent)
        except composio_client.AuthenticationError as exc:
            raise ComposioAuthError(
                f"Composio refused the API key (401) for {slug}: check COMPOSIO_API_KEY"
            ) from exc
        except composio_client.PermissionDeniedError as exc:
            raise ComposioAuthError(
                f"Composio denied {slug} (403): the connected account lacks this permission; "
                "reconnect it in Composio with the needed scopes"
            ) from exc
        except composio_client.APIConnectionError as exc:
            raise ComposioUnavailableError(
                f"cannot reach Composio at {self._http.base_url} for {slug}: {exc}; retrying later"
            ) from exc
        except composio_client.InternalServerError as exc:
            raise ComposioUnavailableError(
                f"Composio failed on its side ({exc.status_code}) running {slug}; retrying later"
            ) from exc
        except composio_client.NotFoundError as exc:
            reason = f"Composio has no such tool ({_reason(exc.body) or exc}): check the slug and the toolkit version"
            raise ComposioToolFailedError(slug, reason, 404) from exc
        except composio_client.APIStatusError as exc:
            raise ComposioToolFailedError(slug, _reason(exc.body) or str(exc), exc.status_code) from exc
        if not response.successful:
            raise ComposioToolFailedError(slug, response.error or "no reason given")
        return _unwrapped(response.data)


def _unwrapped(data: dict[str, Any]) -> dict[str, Any]:
    # Older toolkit versions wrap the upstream answer as {"response_data": {...}}.
    inner = data.get("response_data")
    return inner if isinstance(inner, dict) and len(data) == 1 else data


def _reason(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if error:
            return str(error)
        if body.get("message"):
            return str(body["message"])
    return None
