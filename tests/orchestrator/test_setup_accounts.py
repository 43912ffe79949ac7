"""`pepper-orchestrator setup` against real servers: Dovecot for IMAP, Radicale for CalDAV, and the
Google Calendar emulator; the settings are proven over MCP before they are written, 0600."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.config import load_settings
from orchestrator.setup_accounts import SetupError, setup_account
from tests.mcp_servers.calendar.google_emulator import google_calendar_emulator
from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot
from tests.mcp_servers.gmail.gmail_emulator import GmailEmulator
from tests.support.oauth_provider import OAuthProvider, browser_command, oauth_provider
from tests.support.processes import free_port, stop, wait_for_port

pytestmark = pytest.mark.slow


def answers(*replies: str):
    queue: Iterator[str] = iter(replies)
    return lambda prompt: next(queue)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))


@pytest.mark.skipif(
    DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
)
def test_setup_imap_verifies_the_login_then_writes_a_private_config(settings, tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text('model = "kept"\n')
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        ask = answers("127.0.0.1", user, str(dovecot.port), "none", f"{user}@example.org")
        written = setup_account("imap", settings, config_file=config, ask=ask, ask_secret=answers("secret"))
    document = tomllib.loads(written.read_text())
    assert document["model"] == "kept"
    gmail = document["servers"]["gmail"]
    assert (
        gmail["env"]["PEPPER_GMAIL_IMAP_USERNAME"] == user
        and gmail["env"]["PEPPER_GMAIL_IMAP_PASSWORD"] == "secret"
    )
    assert "--allow-send" not in gmail["command"]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


@pytest.mark.skipif(
    DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
)
def test_setup_imap_refuses_a_wrong_password_and_writes_nothing(settings, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        ask = answers("127.0.0.1", user, str(dovecot.port), "none", "")
        with pytest.raises(SetupError, match="could not use this account"):
            setup_account("imap", settings, config_file=config, ask=ask, ask_secret=answers("wrong"))
    assert not config.exists()


def test_setup_caldav_against_radicale(settings, tmp_path: Path) -> None:
    port = free_port()
    storage = tmp_path / "radicale"
    command = [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
               "--rights-type", "owner_only", "--storage-filesystem-folder", str(storage)]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        ask = answers(f"http://127.0.0.1:{port}/", "alex")
        written = setup_account(
            "caldav",
            settings,
            allow_send=True,
            config_file=tmp_path / "c.toml",
            ask=ask,
            ask_secret=answers("pw"),
        )
    finally:
        stop(process)
    calendar = tomllib.loads(written.read_text())["servers"]["calendar"]
    assert calendar["env"]["PEPPER_CALENDAR_CALDAV_URL"] == f"http://127.0.0.1:{port}/"
    assert calendar["command"][-2:] == ["--allow-write", "--allow-send"]


def test_setup_requires_an_existing_oauth_client_file(settings, tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="does not exist"):
        setup_account(
            "gmail", settings, config_file=tmp_path / "c.toml", ask=answers(str(tmp_path / "missing.json"))
        )


@pytest.fixture
def consenting_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[OAuthProvider]:
    """Google's consent screen on loopback, and a browser that clicks "Allow" on it."""
    import webbrowser

    with oauth_provider() as provider:
        monkeypatch.setenv("BROWSER", browser_command(tmp_path))
        monkeypatch.setattr(webbrowser, "_tryorder", None)  # re-read BROWSER on the next open
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local provider speaks http
        yield provider


def test_setup_google_calendar_runs_the_real_consent_flow_and_keeps_its_token_private(
    settings, tmp_path: Path, monkeypatch, consenting_browser: OAuthProvider
) -> None:
    secrets = consenting_browser.client_secrets(tmp_path)
    with google_calendar_emulator() as (url, store):
        store.add_calendar("me@example.org", "Me")
        monkeypatch.setenv("PEPPER_CALENDAR_GOOGLE_API_ENDPOINT", url)
        written = setup_account(
            "google-calendar",
            settings,
            config_file=tmp_path / "cfg" / "config.toml",
            ask=answers(str(secrets)),
        )
    env = tomllib.loads(written.read_text())["servers"]["calendar"]["env"]
    token = Path(env["PEPPER_CALENDAR_GOOGLE_TOKEN_FILE"])
    stored = json.loads(token.read_text())
    assert consenting_browser.consented_scopes == ["https://www.googleapis.com/auth/calendar.readonly"]
    assert stored["token"] == consenting_browser.issued_tokens[-1] and stored["refresh_token"].startswith(
        "1//"
    )
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_setup_gmail_with_sending_asks_google_for_the_send_scopes_only_then(
    settings, tmp_path: Path, monkeypatch, consenting_browser: OAuthProvider
) -> None:
    secrets = consenting_browser.client_secrets(tmp_path)
    with GmailEmulator() as emulator:
        consenting_browser.access_token = emulator.mailbox.token  # Gmail accepts what Google issued
        monkeypatch.setenv("PEPPER_GMAIL_GMAIL_API_ENDPOINT", emulator.url)
        monkeypatch.setenv("PEPPER_GMAIL_GMAIL_TOKEN_URI", f"{consenting_browser.base_url}token")
        read_only = setup_account(
            "gmail", settings, config_file=tmp_path / "a.toml", ask=answers(str(secrets))
        )
        sending = setup_account(
            "gmail", settings, allow_send=True, config_file=tmp_path / "b.toml", ask=answers(str(secrets))
        )
    assert consenting_browser.consented_scopes == [
        "https://www.googleapis.com/auth/gmail.readonly",
        "https://www.googleapis.com/auth/gmail.modify https://www.googleapis.com/auth/gmail.send",
    ]
    assert "--allow-send" not in tomllib.loads(read_only.read_text())["servers"]["gmail"]["command"]
    assert "--allow-send" in tomllib.loads(sending.read_text())["servers"]["gmail"]["command"]
