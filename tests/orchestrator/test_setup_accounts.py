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
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.config import load_settings
from orchestrator.setup_accounts import SetupError, setup_account
from tests.mcp_servers.calendar.google_emulator import google_calendar_emulator
from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot
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
    assert calendar["command"][-1] == "--allow-write"


def test_setup_google_calendar_saves_a_private_token_and_checks_it(
    settings, tmp_path: Path, monkeypatch
) -> None:
    from google.oauth2.credentials import Credentials

    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {"client_id": "id", "client_secret": "s"}}))
    granted: list[list[str]] = []

    def consent(path: Path, scopes: list[str]) -> Credentials:  # stands in for the user's browser
        granted.append(scopes)
        return Credentials(
            token="ya29.test",
            refresh_token="r",
            client_id="id",
            client_secret="s",
            token_uri="http://127.0.0.1:9/token",
            scopes=scopes,
            expiry=datetime(2099, 1, 1),
        )  # fmt: skip  (google-auth uses naive UTC)

    with google_calendar_emulator() as (url, store):
        store.add_calendar("me@example.org", "Me")
        monkeypatch.setenv("PEPPER_CALENDAR_GOOGLE_API_ENDPOINT", url)
        config = tmp_path / "cfg" / "config.toml"
        written = setup_account(
            "google-calendar", settings, config_file=config, ask=answers(str(secrets)), authorize=consent
        )
    token = Path(
        tomllib.loads(written.read_text())["servers"]["calendar"]["env"]["PEPPER_CALENDAR_GOOGLE_TOKEN_FILE"]
    )
    assert granted == [["https://www.googleapis.com/auth/calendar.readonly"]]
    assert json.loads(token.read_text())["token"] == "ya29.test"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600


def test_setup_requires_an_existing_oauth_client_file(settings, tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="does not exist"):
        setup_account(
            "gmail", settings, config_file=tmp_path / "c.toml", ask=answers(str(tmp_path / "missing.json"))
        )
