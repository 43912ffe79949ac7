"""`setup imap --account NAME` against a real Dovecot: the account's own server is proven over MCP,
then only `[accounts.NAME]` is added or replaced; the rest of the config stays as it was."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.accounts.setup import setup_named_account
from orchestrator.config import load_settings
from orchestrator.setup_accounts import SetupError
from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
    ),
]
BEFORE = """model = "kept"
[servers.gmail]
url = "http://127.0.0.1:9/mcp"
[accounts.home]
kind = "maildir"
maildir = "/srv/home-mail"
"""


def answers(*replies: str):
    queue: Iterator[str] = iter(replies)
    return lambda prompt: next(queue)


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[3]))


def test_setup_with_an_account_adds_or_replaces_that_account_only(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text(BEFORE)
    with running_dovecot() as dovecot:
        first, second = dovecot.add_user(), dovecot.add_user()
        for user in (first, second):  # the second run replaces the account `work`
            settings = load_settings(config, data_dir=tmp_path / "data")
            ask = answers("127.0.0.1", user, str(dovecot.port), "none", f"{user}@example.org", "")
            setup_named_account(
                "imap",
                "work",
                settings,
                allow_send=True,
                config_file=config,
                ask=ask,
                ask_secret=answers("secret"),
            )
        settings = load_settings(config, data_dir=tmp_path / "data")
        ask = answers("127.0.0.1", second, str(dovecot.port), "none", "")
        with pytest.raises(SetupError, match="accounts.again: the same mailbox or calendar as accounts.work"):
            setup_named_account(
                "imap", "again", settings, config_file=config, ask=ask, ask_secret=answers("x")
            )
        ask = answers("127.0.0.1", first, str(dovecot.port), "none", "")
        with pytest.raises(SetupError, match="could not use this account"):
            setup_named_account(
                "imap", "bad", settings, config_file=config, ask=ask, ask_secret=answers("wrong")
            )

    document = tomllib.loads(config.read_text())
    assert document["model"] == "kept" and document["servers"]["gmail"] == {"url": "http://127.0.0.1:9/mcp"}
    assert document["accounts"]["home"] == {"kind": "maildir", "maildir": "/srv/home-mail"}
    work = document["accounts"]["work"]
    assert (work["kind"], work["imap_username"], work["imap_host"]) == ("imap", second, "127.0.0.1")
    assert (work["allow_write"], work["allow_send"]) == (True, True)
    assert set(document["accounts"]) == {"home", "work"}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert load_settings(config).accounts["work"].server == "gmail"  # the file loads back as written
