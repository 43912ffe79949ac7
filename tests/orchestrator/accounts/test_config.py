"""`[accounts.NAME]` tables: checked with errors that name the account, and built into one server each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from orchestrator.accounts import account_of, connection_name, scoped_id, server_kind
from orchestrator.accounts.specs import account_connections
from orchestrator.config import ConfigError, load_settings
from orchestrator.extensions.servers import server_spec
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.capabilities import classify
from orchestrator.workers.loop import tool_name

TWO_ACCOUNTS = """
allow_write = true
[accounts.work]
kind = "imap"
imap_host = "imap.example.org"
imap_username = "me@example.org"
imap_password = "app-password"
smtp_host = "smtp.example.org"
allow_send = true
[accounts.home]
kind = "maildir"
maildir = "{maildir}"
[accounts.family]
kind = "ics"
ics = ["{ics}"]
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ["PEPPER_CONFIG", "PEPPER_DATA_DIR", "PEPPER_ALLOW_WRITE", "PEPPER_ALLOW_SEND"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))


def settings_from(tmp_path: Path, text: str):
    config = tmp_path / "config.toml"
    config.write_text(text)
    return load_settings(config, data_dir=tmp_path / "data")


def test_accounts_become_one_server_each_named_by_kind_and_account(tmp_path: Path) -> None:
    text = TWO_ACCOUNTS.format(maildir=tmp_path / "home-mail", ics=tmp_path / "family.ics")
    settings = settings_from(tmp_path, text)
    assert account_connections(settings) == ["gmail.work", "gmail.home", "calendar.family"]
    assert account_connections(settings, "calendar") == ["calendar.family"]
    work = server_spec(settings, "gmail.work")
    assert work.command == [sys.executable, "-m", "mcp_servers.gmail", "--allow-write", "--allow-send"]
    assert work.env["PEPPER_GMAIL_PROVIDER"] == "imap"
    assert work.env["PEPPER_GMAIL_IMAP_HOST"] == "imap.example.org"
    assert work.env["PEPPER_GMAIL_SMTP_HOST"] == "smtp.example.org"
    assert work.env["PEPPER_GMAIL_STATE_DIR"] == str(tmp_path / "data" / "accounts" / "work")
    home = server_spec(settings, "gmail.home")
    assert home.command[-1] == "--allow-write"  # the global setting: the account says nothing
    assert home.env["PEPPER_GMAIL_MAILDIR"] == str(tmp_path / "home-mail")
    family = server_spec(settings, "calendar.family")
    assert json.loads(family.env["PEPPER_CALENDAR_ICS"]) == [str(tmp_path / "family.ics")]
    assert settings.server("gmail").command[-3:-1] == ["--maildir", str(tmp_path / "data" / "mail")]


def test_account_named_default_is_the_single_account_connection(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[accounts.default]\nkind = "maildir"\nmaildir = "/srv/mail"\n')
    assert account_connections(settings) == []
    assert settings.server("gmail").env["PEPPER_GMAIL_MAILDIR"] == "/srv/mail"
    assert settings.server("calendar").command[-2] == "--ics"  # not an account: Pepper's own default


@pytest.mark.parametrize(
    ("table", "error"),
    [
        (
            '[accounts.work]\nkind = "exchange"\n',
            "accounts.work: unknown kind 'exchange'; use one of maildir, imap",
        ),
        ('[accounts.Work]\nkind = "maildir"\nmaildir = "/m"\n', "accounts.Work: use 1-24 lowercase letters"),
        (
            '[accounts.work]\nkind = "imap"\nimap_host = "h"\n',
            "an imap account needs imap_username, imap_password",
        ),
        (
            '[accounts.work]\nkind = "maildir"\nmaildir = "/m"\nimap_host = "h"\n',
            "imap_host is not a setting of a maildir account (it takes from_address, maildir",
        ),
        (
            '[accounts.a]\nkind = "maildir"\nmaildir = "/m"\n[accounts.b]\nkind = "maildir"\nmaildir = "/m/"\n',
            "accounts.b: the same mailbox or calendar as accounts.a; remove one of them",
        ),
        (
            '[accounts.a]\nkind = "imap"\nimap_host = "IMAP.x.org"\nimap_username = "me"\nimap_password = "1"\n'
            '[accounts.b]\nkind = "imap"\nimap_host = "imap.x.org"\nimap_username = "me"\nimap_password = "2"\n',
            "accounts.b: the same mailbox or calendar as accounts.a",
        ),
        (
            '[servers.gmail]\nurl = "http://127.0.0.1:1/mcp"\n[accounts.default]\nkind = "maildir"\nmaildir = "/m"\n',
            "accounts.default and servers.gmail both say how to reach the default account",
        ),
    ],
)
def test_account_tables_that_cannot_work_are_refused_with_where_and_why(
    tmp_path: Path, table: str, error: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, table)
    assert error in str(raised.value)


def test_a_disabled_account_starts_no_server(tmp_path: Path) -> None:
    text = '[accounts.old]\nkind = "maildir"\nmaildir = "/m"\nenabled = false\n'
    assert account_connections(settings_from(tmp_path, text)) == []


def test_names_map_connections_to_kinds_accounts_and_stored_ids() -> None:
    assert (connection_name("gmail", "default"), connection_name("gmail", "work")) == ("gmail", "gmail.work")
    assert (server_kind("gmail.work"), server_kind("calendar"), server_kind("peer")) == (
        "gmail",
        "calendar",
        "peer",
    )
    assert (account_of("calendar.home"), account_of("gmail")) == ("home", "default")
    assert (scoped_id("default", "INBOX:7:1"), scoped_id("work", "INBOX:7:1")) == (
        "INBOX:7:1",
        "work:INBOX:7:1",
    )


def test_an_account_server_is_classified_by_its_kind_and_named_for_workers() -> None:
    assert classify("gmail.work", "send_message", {}).kind == "outward"
    assert classify("gmail.work", "search_messages", {}).kind == "read"
    assert classify("calendar.home", "list_events", {}).kind == "read"
    tool = RemoteTool(server="gmail.work", name="send_message", description="", input_schema={})
    assert tool_name(tool) == "gmail_work__send_message"


def test_a_custom_worker_may_name_an_accounts_server(tmp_path: Path) -> None:
    text = TWO_ACCOUNTS.format(maildir=tmp_path / "home-mail", ics=tmp_path / "family.ics")
    text += '[workers.family]\ndescription = "d"\nservers = ["gmail.home", "calendar.family"]\n'
    text += 'tools = ["gmail.work__search_*"]\n'
    worker = settings_from(tmp_path, text).workers["family"]
    offered = [
        RemoteTool(server=server, name=name, description="", input_schema={})
        for server in ["gmail", "gmail.home", "gmail.work", "calendar", "calendar.family"]
        for name in ["search_messages", "send_message", "list_events"]
    ]
    allowed = {f"{t.server}:{t.name}" for t in offered if worker.allows(t.server, t.name)}
    assert allowed == {
        "gmail.home:search_messages",
        "gmail.home:send_message",
        "gmail.home:list_events",
        "calendar.family:search_messages",
        "calendar.family:send_message",
        "calendar.family:list_events",
        "gmail.work:search_messages",
    }


@pytest.mark.parametrize(
    ("accounts", "error"),
    [
        (
            '[accounts.home]\nkind = "maildir"\nmaildir = "/m"\n',
            "workers.w.servers: no server named gmail.hoem; add a [servers.NAME] table or use one of "
            "calendar, context, gmail, notify, or an account's server: gmail.home",
        ),
        ("", "an account's server (gmail.NAME, calendar.NAME) needs an [accounts.NAME] table"),
    ],
)
def test_a_worker_naming_an_unknown_accounts_server_is_refused(
    tmp_path: Path, accounts: str, error: str
) -> None:
    text = accounts + '[workers.w]\ndescription = "d"\nservers = ["gmail.hoem"]\n'
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, text)
    assert error in str(raised.value)
