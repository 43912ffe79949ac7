"""Settings and command line: the database path's default and its two overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.context_store.__main__ import DEFAULT_PORT, parse_arguments
from mcp_servers.context_store.settings import ContextStoreSettings


def test_default_db_path_is_under_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PEPPER_CONTEXT_DB_PATH", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert ContextStoreSettings().db_path == tmp_path / "pepper" / "context.sqlite3"


def test_environment_overrides_db_path_and_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEPPER_CONTEXT_DB_PATH", str(tmp_path / "elsewhere.sqlite3"))
    monkeypatch.setenv("PEPPER_CONTEXT_TOKEN", "s3cret")
    settings = ContextStoreSettings()
    assert settings.db_path == tmp_path / "elsewhere.sqlite3"
    assert settings.token is not None and settings.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_command_line_defaults_and_db_flag(tmp_path: Path) -> None:
    defaults = parse_arguments([])
    assert (defaults.transport, defaults.host, defaults.port, defaults.db) == (
        "stdio",
        "127.0.0.1",
        DEFAULT_PORT,
        None,
    )
    chosen = parse_arguments(["--transport", "http", "--port", "9000", "--db", str(tmp_path / "x.sqlite3")])
    assert (chosen.transport, chosen.port, chosen.db) == ("http", 9000, tmp_path / "x.sqlite3")


def test_embedder_settings_build_the_embedder_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPER_CONTEXT_EMBEDDER", "openai")
    monkeypatch.setenv("PEPPER_CONTEXT_EMBEDDER_MODEL", "text-embedding-3-small")
    monkeypatch.setenv("PEPPER_CONTEXT_EMBEDDER_BASE_URL", "http://127.0.0.1:9/v1")
    spec = ContextStoreSettings().embedder_spec()
    assert (spec.kind, spec.model, spec.base_url) == (
        "openai",
        "text-embedding-3-small",
        "http://127.0.0.1:9/v1",
    )
