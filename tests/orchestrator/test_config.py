"""Configuration: a TOML file, environment variables that win over it, defaults on local data."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import load_settings
from orchestrator.runtime import prepare_data

TOML = """
model = "from-file"
vips = ["boss@example.org"]
[servers.gmail]
url = "http://127.0.0.1:9000/mcp"
[servers.notify]
enabled = false
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ["OPENAI_BASE_URL", "OPENAI_API_KEY", "PEPPER_MODEL", "PEPPER_CONFIG", "PEPPER_DATA_DIR"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))


def test_settings_default_to_rules_mode_with_pepper_servers_on_local_data(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.llm_mode is False
    assert settings.server("context").command[-4:] == [
        "-m",
        "mcp_servers.context_store",
        "--db",
        str(tmp_path / "context.sqlite3"),
    ]
    assert settings.server("gmail").command[-2:] == ["--maildir", str(tmp_path / "mail")]


def test_settings_read_toml_file_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(TOML)
    from_file = load_settings(config)
    assert (from_file.model, from_file.vips) == ("from-file", ["boss@example.org"])
    assert from_file.server("gmail").url == "http://127.0.0.1:9000/mcp"
    assert from_file.server("notify").enabled is False
    monkeypatch.setenv("PEPPER_MODEL", "from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    from_both = load_settings(config)
    assert from_both.model == "from-env"
    assert from_both.llm_mode is True
    assert from_both.llm().base_url == "http://127.0.0.1:11434/v1"


def test_settings_from_pepper_config_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('model = "via-variable"\n')
    monkeypatch.setenv("PEPPER_CONFIG", str(config))
    assert load_settings().model == "via-variable"


def test_settings_refuse_a_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_settings_never_show_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    settings = load_settings()
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())


def test_settings_start_gmail_and_calendar_read_only_unless_writing_or_sending_is_allowed(
    tmp_path: Path,
) -> None:
    read_only = load_settings(data_dir=tmp_path)
    for name in ("gmail", "calendar"):
        assert not {"--allow-write", "--allow-send"} & set(read_only.server(name).command)
        writing = load_settings(data_dir=tmp_path, allow_write=True).server(name).command
        assert writing[-1] == "--allow-write" and "--allow-send" not in writing
    writable = load_settings(data_dir=tmp_path, allow_send=True)
    assert writable.server("gmail").command[-2:] == ["--allow-write", "--allow-send"]
    assert writable.server("calendar").command[-2:] == ["--allow-write", "--allow-send"]
    assert writable.server("notify").command[-2] == "--db"
    assert load_settings(data_dir=tmp_path, timezone="Europe/London").server("calendar").command[-2:] == [
        "--timezone",
        "Europe/London",
    ]


def test_the_demo_starts_gmail_and_calendar_with_both_write_flags_on_its_own_data(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()  # a demo mailbox that is already there is kept: nothing to generate
    demo = prepare_data(load_settings(data_dir=tmp_path), demo=True)
    for name in ("gmail", "calendar"):
        command = demo.server(name).command
        assert {"--allow-write", "--allow-send"} <= set(command)
        assert str(tmp_path) in " ".join(command)


def test_only_pepper_own_server_modules_count_as_pepper_servers(tmp_path: Path) -> None:
    (config := tmp_path / "pepper.toml").write_text(
        TOML + '[servers.memory]\ncommand = ["npx", "-m", "some-memory-server"]\n'
    )
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.server("context").runs_pepper_server()
    assert not settings.server("gmail").runs_pepper_server()  # an HTTP URL: someone else's server
    assert not settings.server("memory").runs_pepper_server()
