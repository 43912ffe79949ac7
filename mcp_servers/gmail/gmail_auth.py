"""OAuth credentials of the Gmail API provider: loaded, refreshed and stored with 0600 permissions.

The scope is read-only unless writing is enabled (then modify) or sending (then modify + send). The first consent needs a
browser (`InstalledAppFlow` with the client secrets file); after that the stored refresh token is
used, and the refreshed token is written back atomically, readable by its owner only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials

from .provider import ProviderUnavailableError

__all__ = ["MODIFY_SCOPES", "READ_SCOPES", "SEND_SCOPES", "load_credentials", "save_credentials"]

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
            raise ProviderUnavailableError(
                f"Google refused to refresh the Gmail token ({exc}): consent again"
            ) from exc
        save_credentials(credentials, token_file)
    return credentials
