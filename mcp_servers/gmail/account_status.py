"""What the gmail server knows about its account's health: auth, the last call, and the push watch.

`AccountHealth` is written by the providers as they work: every call to the account that worked or
failed (`reached`, `failed`; a `CredentialsRefused` marks the credentials as refused, not just the
server as unreachable), the Gmail API's OAuth tokens (when this server first saw the refresh token,
when the access token expires, the last refresh) and the `users.watch` push registration (its expiry,
the last renewal, whether renewing fails). `status()` reads it as an `AccountStatus`, stamped with
the server's own clock (`checked_at`) so that a client compares the times with it, not with its own.
The tool `get_account_status` and the resource `gmail://account` serve it, read-only, with the date
of the newest message indexed (the orchestrator's lag is its newest stored message against it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from fastmcp import FastMCP
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from .provider import MailProvider

__all__ = [
    "ACCOUNT_URI",
    "AccountHealth",
    "AccountStatus",
    "OAuthStatus",
    "WatchStatus",
    "add_status_surface",
]

ACCOUNT_URI = "gmail://account"


class OAuthStatus(BaseModel):
    """The OAuth tokens of the Gmail API provider (times in epoch seconds, the server's clock)."""

    refresh_token_since: float | None = Field(
        None, description="When this server first saw the refresh token"
    )
    refresh_token_expires_at: float | None = Field(
        None,
        description="When the refresh token stops working (gmail_refresh_token_days); None: no known end",
    )
    access_token_expires_at: float | None = Field(None, description="When the current access token expires")
    last_refresh_at: float | None = Field(None, description="When the access token was last refreshed")
    refresh_error: str | None = Field(None, description="Why the last refresh failed; None when it worked")


class WatchStatus(BaseModel):
    """The Gmail push registration (`users.watch`) and its renewals."""

    topic: str = Field(description="The Pub/Sub topic Gmail publishes to")
    expires_at: float | None = Field(
        None, description="When the current watch lapses; None: never registered"
    )
    last_renewal_at: float | None = Field(None, description="When users.watch last succeeded")
    renewal_error: str | None = Field(
        None, description="Why the last users.watch failed; None when it worked"
    )
    renewal_failing_since: float | None = Field(
        None, description="First failure of the current run of failures"
    )


class AccountStatus(BaseModel):
    """The account's health as the gmail server sees it."""

    provider: str = Field(description="maildir, imap, gmail or composio")
    account: str = Field(description="Which account: the login, token file or folder")
    state: Literal["ok", "failing", "unknown"] = Field(description="How the last call to the account went")
    auth_failing: bool = Field(False, description="The credentials were refused (expired, revoked, wrong)")
    error: str | None = Field(None, description="What the last failed call said, with what to do")
    failing_since: float | None = Field(None, description="When the current run of failures began")
    last_ok_at: float | None = Field(None, description="When a call to the account last worked")
    checked_at: float = Field(description="The server's clock when this was read: compare the times with it")
    newest_message_at: float | None = Field(None, description="Date of the newest message indexed (epoch s)")
    oauth: OAuthStatus | None = Field(None, description="OAuth tokens (the Gmail API provider only)")
    watch: WatchStatus | None = Field(None, description="Push watch (the Gmail API provider with a topic)")


class AccountHealth:
    """The recorder the providers write to; see the module docstring."""

    def __init__(self, provider: str, account: str, clock: Callable[[], float] = time.time) -> None:
        self.provider, self.account, self.clock = provider, account, clock
        self.error: str | None = None
        self.auth_failing = False
        self.failing_since: float | None = None
        self.last_ok_at: float | None = None
        self.oauth: OAuthStatus | None = None
        self.watch: WatchStatus | None = None

    def reached(self) -> None:
        self.error, self.auth_failing, self.failing_since = None, False, None
        self.last_ok_at = self.clock()
        if self.oauth is not None:
            self.oauth.refresh_error = None

    def failed(self, error: str, *, refused: bool) -> None:
        """A call failed; `refused`: the credentials were refused (see `CredentialsRefused`)."""
        self.error, self.auth_failing = error, refused
        self.failing_since = self.failing_since or self.clock()
        if refused and self.oauth is not None:
            self.oauth.refresh_error = error

    def watch_renewed(self, topic: str, expires_at: float) -> None:
        self.watch = WatchStatus(topic=topic, expires_at=expires_at, last_renewal_at=self.clock())

    def watch_failed(self, topic: str, error: str) -> None:
        watch = self.watch or WatchStatus(topic=topic)
        watch.renewal_error = error
        watch.renewal_failing_since = watch.renewal_failing_since or self.clock()
        self.watch = watch

    def status(self) -> AccountStatus:
        state = "failing" if self.error else ("ok" if self.last_ok_at is not None else "unknown")
        return AccountStatus(
            provider=self.provider, account=self.account, state=state, auth_failing=self.auth_failing,
            error=self.error, failing_since=self.failing_since, last_ok_at=self.last_ok_at,
            checked_at=self.clock(),
            oauth=self.oauth.model_copy() if self.oauth else None,
            watch=self.watch.model_copy() if self.watch else None,
        )  # fmt: skip


def add_status_surface(server: FastMCP, provider: MailProvider) -> None:
    """The read-only `get_account_status` tool and `gmail://account` resource on `server`."""
    read = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )

    @server.tool(annotations=read)
    async def get_account_status() -> AccountStatus:
        """The account's health: whether calls to it work, auth (token age and expiry, the last
        refresh, refused credentials) and the Gmail push watch (expiry, last renewal, failures)."""
        return await _status(provider)

    @server.resource(
        ACCOUNT_URI, mime_type="application/json", description="The account's health (as get_account_status)"
    )
    async def account() -> str:
        return (await _status(provider)).model_dump_json()


async def _status(provider: MailProvider) -> AccountStatus:
    status = provider.account_health.status()
    status.newest_message_at = await provider.newest_message_at()
    return status
