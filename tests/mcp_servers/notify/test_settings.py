"""Settings come from PEPPER_NOTIFY_* variables, fail fast when wrong, and keep secrets out of sight."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from mcp_servers.common.startup import EXIT_STARTUP
from mcp_servers.notify.__main__ import main, parse_args
from mcp_servers.notify.settings import NotifySettings, default_db_path


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEPPER_NOTIFY_DB_PATH", str(tmp_path / "x.sqlite3"))
    monkeypatch.setenv("PEPPER_NOTIFY_QUIET_HOURS_START", "22:30")
    monkeypatch.setenv("PEPPER_NOTIFY_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/secret-part")
    monkeypatch.setenv("PEPPER_NOTIFY_SMTP_PASSWORD", "hunter2")
    settings = NotifySettings()
    assert settings.db_path == tmp_path / "x.sqlite3"
    assert settings.quiet_hours_start == time(22, 30)
    shown = repr(settings) + str(settings.model_dump())
    assert "secret-part" not in shown and "hunter2" not in shown


def test_settings_default_database_is_in_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "pepper" / "notify.sqlite3"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Nowhere/Special", "unknown time zone"),
        ("webhook_url", "ftp://example.org", "must start with http"),
        ("rate_limit_per_minute", 0, "greater than or equal to 1"),
    ],
)
def test_settings_refuse_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NotifySettings(**{field: value})


def test_main_exits_with_message_on_bad_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PEPPER_NOTIFY_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(SystemExit) as exited:
        main(["--transport", "stdio"])
    assert exited.value.code == EXIT_STARTUP
    assert re.search(
        r"(?s)^pepper-notify: invalid PEPPER_NOTIFY_\* setting.*unknown time zone", capsys.readouterr().err
    )


def test_parse_args_defaults_to_stdio_and_port_8768() -> None:
    args = parse_args([])
    assert (args.transport, args.port, args.db) == ("stdio", 8768, None)
    assert parse_args(["--db", "/tmp/n.sqlite3"]).db == Path("/tmp/n.sqlite3")
