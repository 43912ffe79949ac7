"""A local OAuth 2.0 authorization server shaped like Google's, for the installed-app consent flow.

`GET /o/oauth2/auth` plays the consent screen the user clicks through: it checks the client id and
the PKCE challenge, records the scopes asked for, and redirects to the app's loopback redirect URI
with a one-time code. `POST /token` exchanges that code (checking client secret, redirect URI and
the PKCE verifier) for an access and a refresh token. `browser_command` is a stand-in browser for
`webbrowser` (the `BROWSER` variable): it opens the consent URL and follows the redirect home.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

CLIENT_ID = "pepper-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"

# webbrowser waits for a BROWSER command to exit, so like a real browser it hands the page to a
# process of its own and returns at once; that process follows the consent redirect home.
BROWSER = """
import subprocess, sys, urllib.request
if len(sys.argv) == 2:
    subprocess.Popen([sys.executable, sys.argv[0], sys.argv[1], "visit"], start_new_session=True)
else:
    urllib.request.urlopen(sys.argv[1], timeout=30).read()
"""


@dataclass
class Grant:
    redirect_uri: str
    scope: str
    challenge: str


@dataclass
class OAuthProvider:
    """What the consent screen and the token endpoint saw."""

    base_url: str = ""
    access_token: str | None = None  # what to issue (an API emulator's token); random when unset
    consented_scopes: list[str] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)

    def client_secrets(self, folder: Path) -> Path:
        """A Desktop-app client file like the one Google Cloud's console hands out."""
        path = folder / "client_secret_test.json"
        installed = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_uri": f"{self.base_url}o/oauth2/auth",
            "token_uri": f"{self.base_url}token",
            "redirect_uris": ["http://localhost"],
        }
        path.write_text(json.dumps({"installed": installed}))
        return path


def browser_command(folder: Path) -> str:
    """A `BROWSER` value that visits the consent URL like a user who clicks "Allow"."""
    script = folder / "browser.py"
    script.write_text(BROWSER)
    return f"{sys.executable} {script} %s"


class _Handler(BaseHTTPRequestHandler):
    provider: OAuthProvider

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path != "/o/oauth2/auth" or query.get("client_id") != CLIENT_ID:
            return self._answer(400, {"error": "invalid_request"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._answer(400, {"error": "invalid_request", "error_description": "PKCE required"})
        code = secrets.token_urlsafe(16)
        self.provider.grants[code] = Grant(query["redirect_uri"], query["scope"], query["code_challenge"])
        self.provider.consented_scopes.append(query["scope"])
        back = {"code": code, "state": query.get("state", ""), "scope": query["scope"]}
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        grant = self.provider.grants.pop(form.get("code", ""), None)
        if self.path != "/token" or grant is None or form.get("grant_type") != "authorization_code":
            return self._answer(400, {"error": "invalid_grant"})
        if self._client(form) != (CLIENT_ID, CLIENT_SECRET):
            return self._answer(401, {"error": "invalid_client"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.challenge or form.get("redirect_uri") != grant.redirect_uri:
            return self._answer(
                400, {"error": "invalid_grant", "error_description": "PKCE or redirect mismatch"}
            )
        token = self.provider.access_token or f"ya29.{secrets.token_urlsafe(12)}"
        self.provider.issued_tokens.append(token)
        self._answer(
            200,
            {
                "access_token": token,
                "expires_in": 3599,
                "refresh_token": f"1//{secrets.token_urlsafe(12)}",
                "scope": grant.scope,
                "token_type": "Bearer",
            },
        )

    def _client(self, form: dict[str, str]) -> tuple[str | None, str | None]:
        """The client's credentials: HTTP Basic (what requests-oauthlib sends) or form fields."""
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            return unquote_plus(client_id), unquote_plus(secret)
        return form.get("client_id"), form.get("client_secret")

    def _answer(self, status: int, body: dict[str, object]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def oauth_provider() -> Iterator[OAuthProvider]:
    """Serve the authorization server on a free loopback port."""
    provider = OAuthProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"provider": provider}))
    server.daemon_threads = True
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
