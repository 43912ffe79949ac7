"""doctor's local checks: permissions of secrets, disk space, the UI port, the config file."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.config import OrchestratorSettings
from orchestrator.health.checks import (
    Level,
    check_config,
    check_disk,
    check_port,
    check_secret_files,
    secret_files,
)
from tests.support.processes import free_port


def _settings(tmp_path: Path, **extra: object) -> OrchestratorSettings:
    return OrchestratorSettings(data_dir=tmp_path / "data", **extra)


def test_secret_files_readable_by_others_fail_with_the_chmod_to_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    (settings.data_dir / "trust").mkdir(parents=True)
    key = settings.data_dir / "trust" / "approval.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    config = tmp_path / "config.toml"
    config.write_text('model = "m"\n', encoding="utf-8")
    config.chmod(0o600)

    check = check_secret_files(settings, config)

    assert check.level is Level.FAIL
    assert str(key) in check.detail and str(config) not in check.detail
    assert check.fix == f"chmod 600 {key}"
    key.chmod(0o600)
    assert check_secret_files(settings, config).level is Level.OK


def test_secret_files_include_tokens_next_to_the_config_but_not_mail(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    (settings.data_dir / "mail" / "cur").mkdir(parents=True)
    (settings.data_dir / "mail" / "cur" / "1.eml").write_text("x", encoding="utf-8")
    (tmp_path / "gmail-token.json").write_text("{}", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")

    assert secret_files(settings, config) == [config, tmp_path / "gmail-token.json"]


def test_disk_check_fails_below_one_gibibyte_and_warns_below_five(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    levels = {}
    for free in (512 << 20, 3 << 30, 50 << 30):
        monkeypatch.setattr(
            shutil, "disk_usage", lambda _path, free=free: SimpleNamespace(total=100 << 30, used=0, free=free)
        )
        levels[free] = check_disk(settings).level

    assert levels == {512 << 20: Level.FAIL, 3 << 30: Level.WARN, 50 << 30: Level.OK}


def test_port_taken_by_another_program_fails_and_names_a_free_one(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        check = check_port(_settings(tmp_path, ui_port=port))

    assert check.level is Level.FAIL
    assert f"port {port} is taken by another program" in check.detail
    assert f"--port {port + 1}" in check.fix


def test_port_of_the_pepper_running_on_this_data_dir_is_fine(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ui_port=free_port())
    settings.data_dir.mkdir(parents=True)
    place = {"host": "127.0.0.1", "port": 5123, "pid": os.getpid()}
    (settings.data_dir / "ui.json").write_text(json.dumps(place), encoding="utf-8")

    check = check_port(settings)

    assert (check.level, check.detail) == (Level.OK, "Pepper is running on this data dir, UI on port 5123")


def test_a_missing_config_file_means_the_defaults(tmp_path: Path) -> None:
    assert check_config(tmp_path / "absent.toml").level is Level.INFO
    assert "Pepper's defaults" in check_config(None).detail
