"""The tables that extend Pepper are checked when the config loads: each mistake is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config import ConfigError, load_settings
from orchestrator.extensions.servers import server_spec
from tests.support.processes import REPO_ROOT, child_env


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ["OPENAI_BASE_URL", "OPENAI_API_KEY", "PEPPER_MODEL", "PEPPER_DATA_DIR", "DB_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))


def load(tmp_path: Path, text: str):
    config = tmp_path / "config.toml"
    config.write_text(text)
    return load_settings(config, data_dir=tmp_path)


def test_added_server_is_read_with_command_args_env_and_read_globs(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
[servers.sqlite]
command = "mcp-server-sqlite"
args = ["--db-path", "/tmp/x.db"]
env = { LOG = "1" }
read_tools = ["read_*", "list_*", "describe_table"]
[servers.time]
command = ["uvx", "mcp-server-time"]
trust_annotations = true
[servers.off]
enabled = false
""",
    )
    assert settings.added_servers() == ["sqlite", "time"]
    sqlite = settings.server("sqlite")
    assert sqlite.argv() == ["mcp-server-sqlite", "--db-path", "/tmp/x.db"]
    assert (sqlite.env, sqlite.read_tools) == ({"LOG": "1"}, ["read_*", "list_*", "describe_table"])
    assert settings.server("time").trust_annotations is True
    assert settings.server("context").argv()[-3:] == [
        "mcp_servers.context_store",
        "--db",
        str(tmp_path / "context.sqlite3"),
    ]


def test_http_server_token_comes_from_the_variable_token_env_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load(tmp_path, '[servers.db]\nurl = "http://127.0.0.1:9/mcp"\ntoken_env = "DB_TOKEN"\n')
    with pytest.raises(
        ConfigError, match="servers.db: token_env names DB_TOKEN, which is not set in the environment"
    ):
        server_spec(settings, "db")  # at start: status and approve from another shell do not need it
    monkeypatch.setenv("DB_TOKEN", "s3cret")
    spec = server_spec(settings, "db")
    assert spec.token is not None and spec.token.get_secret_value() == "s3cret"
    assert spec.url == "http://127.0.0.1:9/mcp" and spec.command == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[servers.sqlite]\ncomand = "x"', "servers.sqlite: unknown key 'comand'"),
        (
            "[servers.sqlite]\nenv = {}",
            "servers.sqlite: give `command` (a program to run over stdio) or `url` (a streamable",
        ),
        ('[servers.s]\ncommand = "x"\nurl = "http://127.0.0.1:1/mcp"', "not both"),
        (
            '[servers.s]\ncommand = "x"\nread_tools = ["read_[a"]',
            "read_tools: 'read_[a' opens a [ it never",
        ),
        ('[servers.s]\ncommand = "x"\nread_tools = ["read tables"]', "'read tables' is not a tool-name glob"),
        ('[servers.s]\ncommand = "x"\nread_tools = [""]', "'' is not a tool-name glob"),
        ('[servers.a__b]\ncommand = "x"', "server name 'a__b' is not usable"),
        ('[servers.pepper]\ncommand = "x"', "'pepper' is reserved"),
        ('[servers.s]\nargs = ["a"]', "`args` needs a `command`"),
        (
            '[workers.data]\ndescription = "d"\nservers = ["sqlite"]',
            "workers.data.servers: no server named sqlite",
        ),
        ('[workers.data]\ndescription = "d"\ntools = ["read_*"]', "'read_*' names no server"),
        ('[workers.data]\ndescription = "d"\nstateful = true\nconcurrency = 2', "runs one task at a time"),
        ('[workers.data]\ninstructions = "d"', "workers.data: missing key 'description'"),
        ('[workers.data]\ndescription = "d"\ndescribe = "d"', "workers.data: unknown key 'describe'"),
        ('[workers.Data]\ndescription = "d"', "workers.Data: use 1-32 lowercase letters"),
    ],
)
def test_config_mistake_is_a_clear_error(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load(tmp_path, table)
    assert str(raised.value).startswith(f"the configuration ({tmp_path / 'config.toml'}) has 1 problem")


def test_custom_worker_is_read_with_its_allowlist(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
[servers.sqlite]
command = "mcp-server-sqlite"
[workers.data]
description = "Answers questions about the user's spreadsheets."
instructions = "Use SQL."
servers = ["sqlite"]
tools = ["context__search"]
stateful = false
concurrency = 3
timeout_seconds = 30
""",
    )
    worker = settings.workers["data"]
    assert (worker.stateful, worker.concurrency, worker.timeout_seconds) == (False, 3, 30.0)
    assert worker.allows("sqlite", "write_query") and worker.allows("context", "search")
    assert not worker.allows("context", "store") and not worker.allows("gmail", "send_message")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[servers.sqlite]\ncomand = "x"\n', "servers.sqlite: unknown key 'comand'"),
        ('[feeds.x]\nplugin = "no_such_feed"\n', "feeds.x: no feed plugin named 'no_such_feed' is installed"),
        (
            '[servers.db]\nurl = "http://127.0.0.1:9/mcp"\ntoken_env = "DB_TOKEN"\n',
            "servers.db: token_env names",
        ),
    ],
)
def test_pepper_run_stops_at_once_with_the_config_error(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(table)
    command = [sys.executable, "-m", "orchestrator.cli", "--config", str(config), "run", "--port", "0"]
    env = child_env({"PEPPER_DATA_DIR": str(tmp_path / "data"), "PEPPER_CONFIG": str(config)})
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
