"""`pepper-orchestrator setup gmail|imap|caldav|google-calendar`: connect a real account.

Each walk-through asks for what the provider needs, proves it works by starting Pepper's own server
with those settings and calling a read-only tool over MCP (so what is tested is exactly what will run),
and only then writes the `[servers.NAME]` table into the config file. The config file holds
credentials, so it is written with mode 0600 in a 0700 directory; OAuth tokens likewise. Accounts are
read-only unless `--allow-write` is given (labels, read state, archive, drafts, the user's own events)
or `--allow-send` (which also lets the server send, trash, invite and delete; every such action still
waits for the user's approval in Pepper).
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import anyio
import tomlkit
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from orchestrator.config import SERVER_MODULES, OrchestratorSettings, default_config_path, write_flags

__all__ = ["ACCOUNTS", "ENVIRONMENTS", "SetupError", "oauth", "setup_account", "verify", "write_private"]

GMAIL_READ = ["https://www.googleapis.com/auth/gmail.readonly"]
GMAIL_MODIFY = ["https://www.googleapis.com/auth/gmail.modify"]
GMAIL_WRITE = [*GMAIL_MODIFY, "https://www.googleapis.com/auth/gmail.send"]
CALENDAR_READ = ["https://www.googleapis.com/auth/calendar.readonly"]
CALENDAR_WRITE = ["https://www.googleapis.com/auth/calendar"]
ACCOUNTS = {"imap": "gmail", "gmail": "gmail", "caldav": "calendar", "google-calendar": "calendar"}
PROBES = {"gmail": "list_labels", "calendar": "list_calendars"}

Ask = Callable[[str], str]
Access = Literal["read", "write", "send"]


class SetupError(RuntimeError):
    """The account could not be set up; the message says why and what to check."""


def setup_account(
    kind: str,
    settings: OrchestratorSettings,
    allow_send: bool = False,
    config_file: Path | None = None,
    ask: Ask = input,
    ask_secret: Ask = getpass.getpass,
    authorize: Callable[[Path, list[str]], Any] | None = None,
    allow_write: bool = False,
) -> Path:
    """Ask, verify over MCP, and write the server's table; returns the config file written."""
    server = ACCOUNTS[kind]
    path = config_file or default_config_path()
    access: Access = "send" if allow_send else "write" if allow_write else "read"
    env = ENVIRONMENTS[kind](settings, path.parent, access, ask, ask_secret, authorize or oauth)
    command = [sys.executable, "-m", SERVER_MODULES[server]]
    if server == "gmail":
        command += ["--state-dir", str(settings.data_dir / f"gmail-{kind}")]
    command += write_flags(server, allow_write, allow_send)
    anyio.run(verify, server, command, env)
    write_server(path, server, command, env)
    return path


async def verify(server: str, command: list[str], env: dict[str, str]) -> None:
    """Start the server once with these settings and call a read-only tool; on failure, say why in
    the server's own words (the end of its stderr)."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "stderr.log"
        transport = StdioTransport(
            command[0], command[1:], env={**os.environ, **env}, keep_alive=False, log_file=log
        )
        try:
            with anyio.fail_after(90):
                async with Client(transport, init_timeout=60) as client:
                    result = await client.call_tool(PROBES[server], {}, raise_on_error=False)
        except Exception as exc:  # whatever stopped it, the server's stderr says more than the exception
            raise SetupError(f"the {server} server could not use this account: {_tail(log) or exc}") from exc
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            raise SetupError(f"the {server} server could not use this account: {text}")


def _tail(log: Path, lines: int = 3) -> str:
    if not log.exists():
        return ""
    useful = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return " / ".join(useful[-lines:])


def write_server(path: Path, server: str, command: list[str], env: dict[str, str]) -> None:
    """Add or replace `[servers.SERVER]` in the TOML file, keeping the rest of it; mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    servers = document.setdefault("servers", tomlkit.table())
    table = tomlkit.table()
    table["command"] = command
    table["env"] = env
    servers[server] = table
    write_private(path, tomlkit.dumps(document))


def write_private(path: Path, text: str) -> None:
    """Write the config file readable only by the user (it holds credentials), in a 0700 folder."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def _imap(settings, folder, access: Access, ask: Ask, ask_secret: Ask, authorize) -> dict[str, str]:
    host = _required(ask, "IMAP server (e.g. imap.fastmail.com)")
    username = _required(ask, "User name")
    env = {
        "PEPPER_GMAIL_PROVIDER": "imap",
        "PEPPER_GMAIL_IMAP_HOST": host,
        "PEPPER_GMAIL_IMAP_PORT": ask("IMAP port [993]: ").strip() or "993",
        "PEPPER_GMAIL_IMAP_SECURITY": ask("Security: tls, starttls or none [tls]: ").strip() or "tls",
        "PEPPER_GMAIL_IMAP_USERNAME": username,
        "PEPPER_GMAIL_IMAP_PASSWORD": _required(ask_secret, "Password or app password"),
        "PEPPER_GMAIL_FROM_ADDRESS": ask(f"Your address [{username}]: ").strip() or username,
    }
    if access == "send" and (smtp := ask("SMTP server for sending (empty: file sent mail only): ").strip()):
        env["PEPPER_GMAIL_SMTP_HOST"] = smtp
        env["PEPPER_GMAIL_SMTP_PORT"] = ask("SMTP port [587]: ").strip() or "587"
    return env


def _caldav(settings, folder, access: Access, ask: Ask, ask_secret: Ask, authorize) -> dict[str, str]:
    return {
        "PEPPER_CALENDAR_CALDAV_URL": _required(ask, "CalDAV URL (e.g. https://caldav.fastmail.com/)"),
        "PEPPER_CALENDAR_CALDAV_USERNAME": _required(ask, "User name"),
        "PEPPER_CALENDAR_CALDAV_PASSWORD": _required(ask_secret, "Password or app password"),
    }


def _gmail(settings, folder: Path, access: Access, ask: Ask, ask_secret: Ask, authorize) -> dict[str, str]:
    scopes = {"read": GMAIL_READ, "write": GMAIL_MODIFY, "send": GMAIL_WRITE}[access]
    token = _google_token(folder / "gmail-token.json", scopes, ask, authorize)
    return {"PEPPER_GMAIL_PROVIDER": "gmail", "PEPPER_GMAIL_GMAIL_TOKEN_FILE": str(token)}


def _google_calendar(
    settings, folder: Path, access: Access, ask: Ask, ask_secret: Ask, authorize
) -> dict[str, str]:
    scopes = CALENDAR_READ if access == "read" else CALENDAR_WRITE
    return {
        "PEPPER_CALENDAR_GOOGLE_TOKEN_FILE": str(
            _google_token(folder / "google-calendar-token.json", scopes, ask, authorize)
        )
    }


def _google_token(target: Path, scopes: list[str], ask: Ask, authorize) -> Path:
    secrets = Path(
        _required(ask, "Path of the OAuth client file (client_secret_….json from Google Cloud)")
    ).expanduser()
    if not secrets.is_file():
        raise SetupError(f"{secrets} does not exist: download the OAuth client (Desktop app) JSON first")
    credentials = authorize(secrets, scopes)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(credentials.to_json())
    return target


def oauth(secrets: Path, scopes: list[str]) -> Any:
    """Google's consent in the browser, answered on a loopback port (the installed-app flow)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes)
    return flow.run_local_server(host="127.0.0.1", port=0, open_browser=True)


def _required(ask: Ask, prompt: str) -> str:
    answer = ask(f"{prompt}: ").strip()
    if not answer:
        raise SetupError(f"{prompt} is required")
    return answer


ENVIRONMENTS = {"imap": _imap, "caldav": _caldav, "gmail": _gmail, "google-calendar": _google_calendar}
