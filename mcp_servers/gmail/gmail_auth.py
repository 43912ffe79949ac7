"""OAuth credentials of the Gmail API provider: loaded, refreshed and stored with 0600 permissions.

The scope is read-only unless writing is enabled (then modify) or sending (then modify + send). The first consent needs a
browser (`InstalledAppFlow` with the client secrets file); after that the stored refresh token is
used, and the refreshed token is written back atomically, readable by its owner only.
`OAuthTracker` keeps the account's `OAuthStatus` current while the server runs: when the refresh
token was first seen (kept in the index's meta table, so it survives restarts), when the access token
expires, when it was last refreshed (google-auth refreshes inside API calls; the new token is saved).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials

from .account_status import AccountHealth, OAuthStatus
from .provider import CredentialsRefused, ProviderUnavailableError

if TYPE_CHECKING:
    from .journal import Journal

__all__ = [
    "MODIFY_SCOPES",
    "READ_SCOPES",
    "SEND_SCOPES",
    "OAuthTracker",
    "load_credentials",
    "save_credentials",
]

READ_SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]
MODIFY_SCOPES = ["https://www.googleapis.com/auth/gmail.modify"]
SEND_SCOPES = ["https://www.googleapis.com/auth/gmail.modify", "https://www.googleapis.com/auth/gmail.send"]


def save_credentials(credentials: Credentials, path: Path) -> None:
    """Write the token readable by its owner only (0600), replacing the old file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(credentials.to_json())
    os.replace(temporary, path)


def load_credentials(
    token_file: Path, scopes: list[str], client_secrets: Path | None = None, token_uri: str | None = None
) -> Credentials:
    """Stored credentials, refreshed if expired; a first consent in the browser when there are none.

    `token_uri` overrides Google's token endpoint (google-auth ignores the one stored in the file)."""
    if token_file.exists():
        try:
            loaded = Credentials.from_authorized_user_info(json.loads(token_file.read_text()), scopes)
            credentials = loaded.with_token_uri(token_uri) if token_uri else loaded
            credentials.expiry = loaded.expiry  # the copy forgets it
        except (ValueError, KeyError) as exc:
            raise ProviderUnavailableError(
                f"the Gmail token {token_file} is unreadable ({exc}): delete it and consent again"
            ) from exc
    elif client_secrets is not None:
        from google_auth_oauthlib.flow import InstalledAppFlow

        credentials = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes).run_local_server(
            port=0
        )
        save_credentials(credentials, token_file)
    else:
        raise ProviderUnavailableError(
            f"no Gmail token at {token_file}: set PEPPER_GMAIL_GMAIL_CLIENT_SECRETS to an OAuth client file "
            "and start the server once in a terminal to consent"
        )
    if not credentials.valid:
        if not credentials.refresh_token:
            raise ProviderUnavailableError(
                f"the Gmail token {token_file} expired and has no refresh token: consent again"
            )
        try:
            credentials.refresh(Request())
        except GoogleAuthError as exc:
            raise CredentialsRefused(
                f"Google refused to refresh the Gmail token ({exc}): it expired or was revoked; "
                "run `pepper-orchestrator setup gmail` again to consent"
            ) from exc
        save_credentials(credentials, token_file)
    return credentials


def _epoch(moment: datetime | None) -> float | None:
    """google-auth's naive-UTC expiry as epoch seconds."""
    return moment.replace(tzinfo=UTC).timestamp() if moment is not None else None


class OAuthTracker:
    """The OAuth side of one Gmail account's `AccountHealth`; see the module docstring."""

    def __init__(
        self, token_file: Path, journal: Journal, health: AccountHealth, refresh_token_days: float | None,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.token_file, self.journal, self.health, self.clock = token_file, journal, health, clock
        self.refresh_token_days = refresh_token_days
        self.credentials: Credentials | None = None
        self._seen = self._stored_token()

    def _stored_token(self) -> str | None:
        try:
            return json.loads(self.token_file.read_text()).get("token")
        except (OSError, ValueError, AttributeError):
            return None

    def track(self, credentials: Credentials) -> Credentials:
        """Start tracking freshly loaded `credentials` (returned as they are)."""
        self.credentials = credentials
        digest = hashlib.sha256((credentials.refresh_token or "").encode()).hexdigest()[:16]
        if self.journal.meta("oauth_refresh_token") != digest:
            self.journal.set_meta("oauth_refresh_token", digest)
            self.journal.set_meta("oauth_refresh_token_since", str(self.clock()))
        since = float(self.journal.meta("oauth_refresh_token_since") or self.clock())
        days = self.refresh_token_days
        self.health.oauth = OAuthStatus(
            refresh_token_since=since,
            refresh_token_expires_at=since + days * 86400 if days else None,
            access_token_expires_at=_epoch(credentials.expiry),
        )
        self.note_refresh()
        return credentials

    def note_refresh(self) -> None:
        """If the access token changed since last seen, it was refreshed: record it and save it."""
        credentials, oauth = self.credentials, self.health.oauth
        if credentials is None or oauth is None or credentials.token == self._seen:
            return
        self._seen = credentials.token
        oauth.last_refresh_at = self.clock()
        oauth.access_token_expires_at = _epoch(credentials.expiry)
        oauth.refresh_error = None
        save_credentials(credentials, self.token_file)
